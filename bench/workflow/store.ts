// How fast each embedded store records the state changes of workflow runs durably (a claim, then a finish
// with a history row: two synced transactions per run): SQLite (what the workflow store uses), LMDB, and the
// embedded log (each change an appended event, fdatasync on every append; the runs' state would have to be
// rebuilt by replaying them at start). Run: npx node bench/workflow/store.ts [runs]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { openLog } from '../../src/log/index.ts'
import { WorkflowStore } from '../../src/workflow/store.ts'

const runs = Number(process.argv[2] ?? 500)
const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-bench-'))

function report(name: string, t0: number): void {
  const ms = performance.now() - t0
  process.stdout.write(`${name.padEnd(30)} ${(ms / runs).toFixed(3)} ms/run  ${Math.round((runs * 1000) / ms)} runs/s\n`)
}

/** What a scheduler pays at start to know its runs' state (recovery looks for the running ones). */
function reportStart(name: string, t0: number): void {
  process.stdout.write(`${name.padEnd(30)} ${(performance.now() - t0).toFixed(1)} ms to open and know the state of ${runs} runs\n`)
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
  t0 = performance.now()
  const reopened = new WorkflowStore(join(dir, 'runs.db'))
  reopened.runs('b', { statuses: ['running'] })
  reportStart('sqlite', t0)
  reopened.close()

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

  const log = await openLog(join(dir, 'log'), { fsync: 'always' })
  await log.createTopic('runs', { partitions: 1 })
  t0 = performance.now()
  for (const k of keys) {
    await log.append('runs', 0, [{ key: `b/t/${k}`, value: JSON.stringify({ status: 'running', attempts: 1 }) }])
    // the finish and its history row in one append: one write, one fdatasync
    await log.append('runs', 0, [
      { key: `b/t/${k}`, value: JSON.stringify({ status: 'succeeded', attempts: 1 }) },
      { key: 'history', value: JSON.stringify({ task: 't', partition: k, outcome: 'succeeded' }) },
    ])
  }
  report('embedded log (fsync always)', t0)
  await log.close()
  t0 = performance.now()
  const replay = await openLog(join(dir, 'log'), { fsync: 'always' })
  const state = new Map<string, string>()
  for (let at = 0; ; ) {
    const batch = await replay.readBatch('runs', 0, at)
    if (batch.offsets.length === 0) break
    for (let i = 0; i < batch.offsets.length; i++) if (batch.keys[i]?.toString() !== 'history') state.set(batch.keys[i]!.toString(), batch.values[i]!.toString())
    at = batch.nextOffset
  }
  reportStart('embedded log (replay)', t0)
  await replay.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
