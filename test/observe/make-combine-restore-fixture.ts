// Writes test/observe/fixtures/before-combiners/: savepoints of fixtures/combine-restore.ts taken at parallelism 1
// and 2 by a version of Sluice from before steps had combiners by default, the output folders as the runs left
// them (their sinks' pre-committed files are part of the savepoints), and what that version commits in all once
// it resumed from either (expected.json, the output of one straight run). Run it on such a checkout (with this
// file, combine-restore-output.ts, fixtures/combine-restore.ts and ../checkpoint/paced.ts copied in):
//   node test/observe/make-combine-restore-fixture.ts
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/index.ts'
import { build } from './fixtures/combine-restore.ts'
import { committedOutput } from './combine-restore-output.ts'

const module = new URL('./fixtures/combine-restore.ts', import.meta.url).href
const target = fileURLToPath(new URL('./fixtures/before-combiners/', import.meta.url))

await rm(target, { recursive: true, force: true })
const tmp = await mkdtemp(join(tmpdir(), 'sluice-combine-fixture-'))
const outputs: string[] = []
try {
  for (const parallelism of [1, 2]) {
    const dir = join(tmp, `chk-${parallelism}`)
    const savepoint = join(tmp, `savepoint-p${parallelism}`)
    await mkdir(join(dir, 'control'), { recursive: true })
    await writeFile(join(dir, 'control', 'a.request'), JSON.stringify({ target: savepoint, stop: true }))
    const out = join(tmp, `out-${parallelism}`)
    const params = { out, every: '4000' }
    const first = await run(build(params), { parallelism, module, params, checkpoint: { dir, intervalMs: 0 } })
    if (first.status !== 'stopped') throw new Error(`the run at parallelism ${parallelism} ${first.status} before its savepoint`)
    await cp(savepoint, join(target, `savepoint-p${parallelism}`), { recursive: true })
    await cp(out, join(target, `out-p${parallelism}`), { recursive: true })
    // What the old version commits in all when it resumes from the savepoint at the same parallelism.
    const resumed = await run(build({ out }), { parallelism, module, params: { out }, checkpoint: { dir: join(tmp, `chk-resumed-${parallelism}`), intervalMs: 0, restoreFrom: savepoint } })
    if (resumed.status !== 'finished') throw new Error(`the resumed run at parallelism ${parallelism} ${resumed.status}`)
    outputs.push(JSON.stringify(await committedOutput(out), null, 1) + '\n')
  }
  if (outputs[0] !== outputs[1]) throw new Error('the runs resumed at parallelism 1 and 2 committed different output')
  await writeFile(join(target, 'expected.json'), outputs[0])
  console.log(`wrote ${target}`, JSON.parse(await readFile(join(target, 'savepoint-p1', 'manifest.json'), 'utf8')).operators.map((o: { step: string }) => o.step))
} finally {
  await rm(tmp, { recursive: true, force: true })
}
