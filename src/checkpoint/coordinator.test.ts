import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agg, pipeline, sink, source } from '../index.ts'
import { ManualClock } from '../core/clock.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import { buildPlan } from '../plan/physical-plan.ts'
import { openSink } from '../runtime/open-sink.ts'
import { TaskGraph } from '../runtime/task-graph.ts'
import type { Vertex } from '../runtime/vertex.ts'
import { readEntries } from '../operators/keyed-snapshot.ts'
import { CheckpointCoordinator, type CheckpointConfig } from './coordinator.ts'
import type { Manifest } from './manifest.ts'
import { redistributeKeyed } from './redistribute.ts'

// The policy of incremental checkpoints, driven checkpoint by checkpoint: a keyed aggregate's vertex is fed
// batches directly and checkpoints are triggered by hand, so which checkpoint is full does not depend on time.

interface Ev {
  k: number
}

async function setup(dir: string, config: Partial<CheckpointConfig> = {}) {
  const p = pipeline('policy')
  p.from(source.generator<Ev>({ count: 1, make: (g) => ({ k: g.seq }) }))
    .keyBy((e) => e.k)
    .aggregate(agg.count())
    .to(sink.blackhole())
  const graph = new TaskGraph(buildPlan(p), { clock: new ManualClock(0), onError: 'fail' })
  for (const v of graph.vertices) {
    const step = v?.plan.steps[0]
    if (v !== undefined && step?.impl.role === 'sink') v.sink = await openSink(step, { pipeline: 'policy', stepId: v.plan.id, subtask: 0, checkpointing: true })
  }
  const warnings: string[] = []
  const coordinator = new CheckpointCoordinator('policy', graph, [], { dir, intervalMs: 0, warn: (m) => warnings.push(m), ...config }, 0)
  const vertex = graph.vertices.find((v): v is Vertex => v?.plan.steps[0].kind === 'keyed-aggregate')!
  const push = (keys: number[]) => vertex.push({ values: keys.map((k) => ({ k })), times: keys.map(() => 0), keys }, 0)
  /** Takes a checkpoint and says whether it was full or a delta, from its manifest. */
  const checkpoint = async (): Promise<'full' | 'delta' | 'failed'> => {
    const failed = coordinator.report.failed
    const { id } = await coordinator.trigger(0)
    await coordinator.settle()
    if (coordinator.report.failed > failed) return 'failed'
    const m = JSON.parse(await readFile(join(dir, `chk-${String(id).padStart(8, '0')}`, 'manifest.json'), 'utf8')) as Manifest
    return m.operators.some((o) => o.files.some((f) => f.delta === true)) ? 'delta' : 'full'
  }
  return { coordinator, vertex, push, checkpoint, warnings }
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-policy-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('the first checkpoint is full, then deltas, and a full one again after maxDeltas deltas', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir, { maxDeltas: 2 })
    const kinds: string[] = []
    s.push(range(0, 1000))
    kinds.push(await s.checkpoint())
    for (let i = 0; i < 5; i++) {
      s.push([i])
      kinds.push(await s.checkpoint())
    }
    assert.deepEqual(kinds, ['full', 'delta', 'delta', 'full', 'delta', 'delta'])
    assert.equal(s.coordinator.report.deltas, 4)
  })
})

test('a full checkpoint follows once the deltas outgrow their base', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir)
    s.push(range(0, 10))
    const kinds = [await s.checkpoint()]
    s.push(range(1000, 1000))
    kinds.push(await s.checkpoint())
    s.push([1])
    kinds.push(await s.checkpoint())
    assert.deepEqual(kinds, ['full', 'delta', 'full'])
  })
})

test('after a failed checkpoint the next one is full: the changes the failed delta held are in no other', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir)
    s.push(range(0, 1000))
    const kinds = [await s.checkpoint()]
    s.push([1])
    kinds.push(await s.checkpoint())
    // Checkpoint 3 cannot be renamed into place: a file holds its name.
    await writeFile(join(dir, 'chk-00000003'), 'in the way')
    s.push([2])
    kinds.push(await s.checkpoint())
    s.push([3])
    kinds.push(await s.checkpoint())
    s.push([4])
    kinds.push(await s.checkpoint())
    assert.deepEqual(kinds, ['full', 'delta', 'failed', 'full', 'delta'])
    assert.match(s.warnings.join('\n'), /checkpoint 3 of 'policy' failed/)
  })
})

test('a savepoint is full and self-contained, and the checkpoint after it is full', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir)
    s.push(range(0, 1000))
    const kinds = [await s.checkpoint()]
    s.push([1])
    kinds.push(await s.checkpoint())
    s.push([2])
    const sp = join(dir, 'savepoint')
    await s.coordinator.savepoint(0, sp)
    const m = JSON.parse(await readFile(join(sp, 'manifest.json'), 'utf8')) as Manifest
    assert.ok(m.operators.every((o) => o.files.every((f) => f.delta === undefined && f.checkpoint === undefined)), 'the savepoint lists only its own full files')
    s.push([3])
    kinds.push(await s.checkpoint())
    assert.deepEqual(kinds, ['full', 'delta', 'full'])
  })
})

test('restored from a delta, the operator holds the state a full checkpoint would have given; its first checkpoint is full', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir)
    s.push(range(0, 500))
    await s.checkpoint()
    s.push([...range(0, 10), ...range(500, 20)])
    await s.checkpoint()
    s.push([3, 3, 600])
    assert.equal(await s.checkpoint(), 'delta')
    const rows = (snap: unknown) =>
      readEntries(redistributeKeyed([snap as KeyedSnapshot], 1)[0], 'rows')
        .map(([, k, d]) => JSON.stringify([k, d]))
        .sort()
    const want = rows(structuredClone(s.vertex.operator!.snapshot!()))
    const again = await setup(dir)
    assert.equal(await again.coordinator.restore(), 3)
    assert.deepEqual(rows(structuredClone(again.vertex.operator!.snapshot!())), want)
    again.push([7])
    assert.equal(await again.checkpoint(), 'full')
  })
})

test('with incremental: false every checkpoint is full', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir, { incremental: false })
    const kinds: string[] = []
    for (let i = 0; i < 3; i++) {
      s.push([i])
      kinds.push(await s.checkpoint())
    }
    assert.deepEqual(kinds, ['full', 'full', 'full'])
  })
})

test('restored past a newer unreadable checkpoint, new checkpoints take ids above it and are written', async () => {
  await withDir(async (dir) => {
    const s = await setup(dir)
    s.push(range(0, 50))
    await s.checkpoint()
    s.push(range(50, 10))
    await s.checkpoint()
    await writeFile(join(dir, 'chk-00000002', 'manifest.json'), '{ damaged')
    const again = await setup(dir)
    assert.equal(await again.coordinator.restore(), 1)
    assert.ok(again.warnings.some((w) => w.includes('checkpoint 2')), again.warnings.join('\n'))
    again.push([7])
    assert.equal(await again.checkpoint(), 'full')
    assert.equal(again.coordinator.report.last?.id, 3)
    assert.equal(again.coordinator.report.failed, 0)
  })
})
