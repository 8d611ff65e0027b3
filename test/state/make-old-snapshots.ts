// Writes test/state/fixtures/: each scenario's snapshot as a state file, and the output after restoring it.
// Run once with the operators as they were before their state moved into the state backend; names given as
// arguments write only those scenarios (the others' files were written by earlier versions).
import { mkdirSync, writeFileSync } from 'node:fs'
import { encodeState } from '../../src/checkpoint/state-file.ts'
import { run, scenarios } from './old-snapshots.ts'

const dir = new URL('./fixtures/', import.meta.url)
mkdirSync(dir, { recursive: true })
const only = process.argv.slice(2)
for (const s of scenarios) {
  if (only.length > 0 && !only.includes(s.name)) continue
  const { snapshot, output } = run(s)
  const parts = encodeState(snapshot)
  writeFileSync(new URL(`${s.name}.state`, dir), Buffer.concat(parts.map((p) => Buffer.from(p))))
  writeFileSync(new URL(`${s.name}.expected.json`, dir), JSON.stringify(output, null, 1) + '\n')
}
