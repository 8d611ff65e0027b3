import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agg, pipeline, sink, source } from '../index.ts'
import { buildPlan } from '../plan/physical-plan.ts'
import type { Ack, BarrierSpec } from './acks.ts'
import { CheckpointCoordinator, type CheckpointConfig } from './coordinator.ts'
import { sha256 } from './storage.ts'

// The incremental policy and the round protocol of the coordinator, checkpoint by checkpoint: the parts a
// subtask would send are made by hand (a state file of the size asked for), so which checkpoint is full does
// not depend on time.

const plan = buildPlan(
  (() => {
    const p = pipeline('policy')
    p.from(source.collection([{ k: 'a' }]))
      .keyBy((r) => r.k)
      .aggregate(agg.count())
      .to(sink.collect())
    return p
  })(),
)
const layout = { threads: 1, subtasks: () => 1, edge: () => 'keyed' as const }
const opVertex = plan.vertices.find((v) => v.role === 'operator')!.index

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-coord-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function coordinator(dir: string, extra: Partial<CheckpointConfig> = {}): CheckpointCoordinator {
  return new CheckpointCoordinator('policy', plan, layout, { dir, intervalMs: 0, warn: () => {}, ...extra }, 0, false)
}

/** Every vertex answers; the operator writes a state file of `bytes` bytes (a delta when the spec allows it). */
async function round(c: CheckpointCoordinator, bytes: number, kind: BarrierSpec['kind'] = 'checkpoint', savepoint?: string, lose = false, stateSize?: number) {
  const { id, spec } = c.begin(0, kind, savepoint)
  for (const v of plan.vertices) {
    const wm = { watermark: 0, forwarded: 0, inputs: [] }
    let ack: Ack
    if (v.role === 'source') ack = { id, vertex: v.index, subtask: 0, ms: 0, kind: 'source', state: { positions: [0], watermarks: [null], ended: [false], recordsIn: 0 }, owned: [0], wm, steps: [] }
    else if (v.role === 'sink') ack = { id, vertex: v.index, subtask: 0, ms: 0, kind: 'sink', pending: [], wm, steps: [], alignmentMs: 0 }
    else if (v.index === opVertex && bytes > 0) {
      const data = Buffer.alloc(bytes, 1)
      const file = `${v.id}.0.0.${spec.delta ? 'delta' : 'state'}`
      if (!lose) await writeFile(join(spec.staging!, file), data)
      ack = { id, vertex: v.index, subtask: 0, ms: 0, kind: 'operator', files: [{ subtask: 0, file, bytes, sha256: sha256(data), ...(spec.delta ? { delta: true } : {}) }], plain: undefined, delta: spec.delta, bytes, ...(stateSize !== undefined ? { stateSize } : {}), wm, steps: [], channels: [], alignmentMs: 0 }
    } else ack = { id, vertex: v.index, subtask: 0, ms: 0, kind: 'operator', files: undefined, plain: undefined, delta: false, bytes: 0, wm, steps: [], channels: [], alignmentMs: 0 }
    c.ack(ack)
  }
  const stats = await c.complete()
  return { id, delta: spec.delta, stats }
}

test('the first checkpoint is full, then deltas, and a full one again after maxDeltas deltas', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir, { maxDeltas: 2 })
    assert.equal(await c.restore(), undefined)
    const kinds = []
    for (let i = 0; i < 5; i++) kinds.push((await round(c, 100)).delta)
    assert.deepEqual(kinds, [false, true, true, false, true])
    assert.equal(c.report.completed, 5)
    assert.equal(c.report.deltas, 3)
  })
})

test('a full checkpoint follows once the deltas outgrow their base', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir)
    await c.restore()
    assert.equal((await round(c, 100)).delta, false)
    assert.equal((await round(c, 150)).delta, true)
    assert.equal((await round(c, 10)).delta, false, 'deltas of 150 bytes outgrew a base of 100')
  })
})

test('deltas of state that grows do not make a full checkpoint: its size is what the chain is judged by', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir)
    await c.restore()
    assert.equal((await round(c, 100, 'checkpoint', undefined, false, 1000)).delta, false)
    // The state doubled, then tripled: a full would take 200, then 300 bytes; the chain is 250, then 400.
    assert.equal((await round(c, 150, 'checkpoint', undefined, false, 2000)).delta, true)
    assert.equal((await round(c, 150, 'checkpoint', undefined, false, 3000)).delta, true)
    assert.equal((await round(c, 300, 'checkpoint', undefined, false, 3000)).delta, true)
    assert.equal((await round(c, 10, 'checkpoint', undefined, false, 3000)).delta, false, 'a chain of 700 bytes for state a full takes 300 of')
  })
})

test('after a failed checkpoint the next one is full; too many failures in a row fail the job', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir, { tolerableFailures: 1 })
    await c.restore()
    await round(c, 100)
    const failed = await round(c, 100, 'checkpoint', undefined, true)
    assert.equal(failed.stats, undefined)
    assert.equal(c.report.failed, 1)
    assert.equal((await round(c, 100)).delta, false)
    await round(c, 100, 'checkpoint', undefined, true)
    await round(c, 100, 'checkpoint', undefined, true)
    assert.throws(() => c.check(), (e: Error & { code?: string }) => e.code === 'SLUICE_CHECKPOINT_FAILED')
  })
})

test('a savepoint is full and self-contained, and the checkpoint after it is full', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir)
    await c.restore()
    await round(c, 100)
    await round(c, 50)
    const sp = join(dir, 'sp')
    const s = await round(c, 100, 'savepoint', sp)
    assert.equal(s.delta, false)
    assert.ok(s.stats !== undefined)
    assert.equal((await round(c, 100)).delta, false)
    await assert.rejects(async () => c.begin(0, 'savepoint', sp), (e: Error & { code?: string }) => e.code === 'SLUICE_SAVEPOINT_EXISTS')
  })
})

test('with incremental: false every checkpoint is full', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir, { incremental: false })
    await c.restore()
    for (let i = 0; i < 3; i++) assert.equal((await round(c, 100)).delta, false)
  })
})

test('restored past a newer unreadable checkpoint, new checkpoints take ids above it and are written', async () => {
  await withDir(async (dir) => {
    const c = coordinator(dir)
    await c.restore()
    await round(c, 0)
    await c.close()
    await mkdir(join(dir, 'chk-00000009'))
    const d = coordinator(dir)
    const restored = await d.restore()
    assert.equal(restored?.[0].checkpointId, 1)
    const r = await round(d, 0)
    assert.equal(r.id, 10)
    assert.ok(r.stats !== undefined)
    await d.close()
  })
})

test('a changed interval reschedules the next checkpoint from the change, and later ones keep it', () =>
  withDir(async (dir) => {
    const c = coordinator(dir, { intervalMs: 3_600_000 })
    assert.equal(c.nextDue, 3_600_000)
    c.setInterval(500, 1_000)
    assert.equal(c.intervalMs, 500)
    assert.equal(c.due(1_499), false)
    assert.equal(c.due(1_500), true)
    c.begin(1_500, 'checkpoint')
    assert.equal(c.nextDue, 2_000)
    c.setInterval(0, 1_600)
    assert.equal(c.nextDue, Infinity)
  }))
