// How fast each embedded store records the state changes of workflow runs durably (a claim, then a finish
// with a history row: two synced transactions per run). Run: npx node bench/workflow/store.ts [runs]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { WorkflowStore } from '../../src/workflow/store.ts'

const runs = Number(process.argv[2] ?? 500)
const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-bench-'))

function report(name: string, t0: number): void {
  const ms = performance.now() - t0
  process.stdout.write(`${name.padEnd(28)} ${(ms / runs).toFixed(3)} ms/run  ${Math.round((runs * 1000) / ms)} runs/s\n`)
}

try {
  const store = new WorkflowStore(join(dir, 'runs.db'))
  const keys = Array.from({ length: runs }, (_, i) => `p${i}`)
  store.enqueue('b', ['t'], keys, 0)
  let t0 = performance.now()
  for (const k of keys) {
    store.claim('b', 't', k, 1)
    store.finish(store.run('b', 't', k)!, 'succeeded', 2, null, undefined)
  }
  report('sqlite (WAL, synchronous=FULL)', t0)
  store.close()

  const db = open({ path: join(dir, 'lmdb'), encoding: 'msgpack', noSync: false })
  let id = 0
  t0 = performance.now()
  for (const k of keys) {
    await db.put(`run/b/t/${k}`, { status: 'running', attempts: 1 })
    await db.transaction(() => {
      db.put(`run/b/t/${k}`, { status: 'succeeded', attempts: 1 })
      db.put(`hist/${String(id++).padStart(12, '0')}`, { task: 't', partition: k, outcome: 'succeeded' })
    })
  }
  report('lmdb (synced commits)', t0)
  await db.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
