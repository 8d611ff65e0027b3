// Writes test/state/fixtures/<scenario>.<n>.state (the base, then each delta) and the output after restoring
// their merge. Run with the operators of the format to keep; the test then holds later versions to it.
import { writeFileSync } from 'node:fs'
import { encodeState } from '../../src/checkpoint/state-file.ts'
import { mergeKeyed } from '../../src/checkpoint/incremental.ts'
import { redistributeKeyed } from '../../src/checkpoint/redistribute.ts'
import { deltaScenarios, runDeltas } from './old-deltas.ts'

const dir = new URL('./fixtures/', import.meta.url)
for (const s of deltaScenarios) {
  const { chain } = runDeltas(s)
  chain.forEach((snap, i) => writeFileSync(new URL(`${s.name}.${i}.state`, dir), Buffer.concat(encodeState(snap).map((p) => Buffer.from(p)))))
  const { output } = runDeltas(s, (h) => h.restoreFrom(redistributeKeyed([mergeKeyed(chain[0], chain.slice(1))], 1)[0]))
  writeFileSync(new URL(`${s.name}.expected.json`, dir), JSON.stringify(output, null, 1) + '\n')
}
