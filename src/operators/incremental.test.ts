import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DELETE, INSERT, type RowKind } from '../core/batch.ts'
import { ManualClock } from '../core/clock.ts'
import { subtaskOfKey } from '../core/key.ts'
import { CHANGED_KEYS, type KeyedSnapshot, type Operator, type OperatorContext } from '../core/operator.ts'
import { mergeKeyed } from '../checkpoint/incremental.ts'
import { redistributeKeyed } from '../checkpoint/redistribute.ts'
import { OperatorHarness, type HarnessRecord } from '../testing/operator-harness.ts'
import { agg } from './aggregate/functions.ts'
import type { JoinType } from './join/join-types.ts'
import { RegularJoinOperator } from './join/regular-join-operator.ts'
import { KeyedAggregateOperator } from './keyed-aggregate/keyed-aggregate-operator.ts'
import { readEntries } from './keyed-snapshot.ts'
import { window, type WindowAssigner } from './window/assigners.ts'
import { trigger, type Trigger } from './window/triggers.ts'
import { WindowOperator } from './window/window-operator.ts'
import { IntervalJoinOperator } from './join/interval-join-operator.ts'
import { WindowJoinOperator } from './join/window-join-operator.ts'
import { KeyedProcessOperator } from './process/keyed-process-operator.ts'
import type { KeyedProcessFunction } from './process/process-function.ts'

// Incremental snapshots (a base, then deltas of the keys changed since the previous one) merged into one
// snapshot must restore an operator that behaves exactly as one restored from a full snapshot taken at the
// same point: same output, in the same order, for the same input that follows, at any parallelism.

type Build = (ctx: OperatorContext) => Operator

interface In {
  key: unknown
  value: unknown
  time: number
  kind?: RowKind
}

/** A batch on one input, a watermark, processing time moving on, or an incremental snapshot. */
type Step = { push: In[]; input: number } | { wm: number } | { advance: number } | { cut: true }

const START = 1_000
const line = (r: HarnessRecord) => `${r.kind} ${String(r.time)} ${JSON.stringify(r.value)}`
const keyArb = fc.constantFrom<unknown>('a', 'b', 'c', 'd', 'e', 'f', 7, 42, ['t', 1], ['t', 2])

function stepsArb(inputs: number, retractions: boolean): fc.Arbitrary<Step[]> {
  const rec = fc.record({ key: keyArb, time: fc.integer({ min: 0, max: 60 }), v: fc.integer({ min: 0, max: 2 }), retract: retractions ? fc.boolean() : fc.constant(false) })
  const raw = fc.oneof(
    { weight: 5, arbitrary: fc.record({ push: fc.array(rec, { minLength: 1, maxLength: 8 }), input: fc.integer({ min: 0, max: inputs - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ wmStep: fc.integer({ min: 0, max: 8 }) }) },
    { weight: 2, arbitrary: fc.record({ advance: fc.integer({ min: 1, max: 30 }) }) },
    { weight: 2, arbitrary: fc.constant({ cut: true as const }) },
  )
  return fc.array(raw, { minLength: 1, maxLength: 30 }).map((rs) => {
    let wm = -1
    return rs.map((r): Step => {
      if ('cut' in r) return r
      if ('wmStep' in r) return { wm: (wm += r.wmStep) }
      if ('advance' in r) return { advance: r.advance }
      return { input: r.input, push: r.push.map((x) => ({ key: x.key, time: x.time, value: { k: x.key, v: x.v }, kind: x.retract ? DELETE : INSERT })) }
    })
  })
}

function apply(hs: OperatorHarness[], s: Step): void {
  if ('push' in s) {
    const parts: In[][] = hs.map(() => [])
    for (const r of s.push) parts[subtaskOfKey(r.key, hs.length)].push(r)
    parts.forEach((p, i) => {
      if (p.length > 0) hs[i].push(p, s.input)
    })
  } else if ('wm' in s) {
    for (const h of hs) h.watermark(s.wm)
  } else if ('advance' in s) {
    for (const h of hs) h.advanceProcessingTime(s.advance)
  }
}

/** Runs the rest of the steps on `parallelism` harnesses restored from `snap`; their output, subtask by subtask. */
function restoredRun(build: Build, snap: KeyedSnapshot, parallelism: number, rest: Step[], now: number, wm: number, opts: { state?: 'heap' | 'durable' } = {}): string[] {
  const restores = redistributeKeyed([structuredClone(snap)], parallelism)
  const hs = restores.map((r, i) => new OperatorHarness(build, { subtask: i, parallelism, clock: new ManualClock(now), ...opts }).restoreFrom(r, { watermark: wm }))
  try {
    for (const s of rest) apply(hs, s)
    for (const h of hs) h.end()
    return hs.flatMap((h) => h.take().map(line))
  } finally {
    for (const h of hs) h.close()
  }
}

const rowsOf = (snap: KeyedSnapshot, list: string) =>
  readEntries(redistributeKeyed([snap], 1)[0], list)
    .map(([, k, d]) => JSON.stringify([k, d]))
    .sort()

/**
 * Runs `steps` on an operator that takes incremental snapshots at each cut (a base first, then deltas) and on
 * a twin that takes none. At every cut, the base and deltas so far, merged, must hold the rows of the twin's
 * full snapshot and, restored at parallelism 1 and 3, give the output of the twin's full snapshot restored.
 */
function check(build: Build, steps: Step[], lists = ['rows'], state?: 'heap' | 'durable'): void {
  const clock = new ManualClock(START)
  const opts = state === undefined ? {} : { state }
  const inc = new OperatorHarness(build, { clock, ...opts })
  const twin = new OperatorHarness(build, { clock: new ManualClock(START), ...opts })
  const layers: KeyedSnapshot[] = []
  try {
    checkSteps(steps, build, clock, inc, twin, layers, lists, opts)
  } finally {
    inc.close()
    twin.close()
  }
}

function checkSteps(steps: Step[], build: Build, clock: ManualClock, inc: OperatorHarness, twin: OperatorHarness, layers: KeyedSnapshot[], lists: string[], opts: { state?: 'heap' | 'durable' }): void {
  steps.forEach((s, at) => {
    if (!('cut' in s)) {
      apply([inc], s)
      apply([twin], s)
      assert.deepEqual(inc.take().map(line), twin.take().map(line), 'tracking changes must not change the output')
      return
    }
    layers.push(structuredClone(inc.operator.snapshotIncremental!(layers.length === 0)))
    const merged = mergeKeyed(layers[0], layers.slice(1))
    const full = structuredClone(twin.operator.snapshot!()) as KeyedSnapshot
    for (const list of lists) assert.deepEqual(rowsOf(merged, list), rowsOf(full, list), `${list} after cut ${layers.length}`)
    const rest = steps.slice(at + 1)
    for (const p of [1, 3]) {
      const want = restoredRun(build, full, p, rest, clock.now(), twin.currentWatermark, opts)
      const got = restoredRun(build, merged, p, rest, clock.now(), inc.currentWatermark, opts)
      assert.deepEqual(got, want, `restored at parallelism ${p} from base and ${layers.length - 1} deltas`)
    }
  })
}

for (const type of ['inner', 'left', 'full'] as JoinType[]) {
  test(`regular join (${type}): base and deltas restore what a full snapshot restores, at any parallelism`, () => {
    const build: Build = (ctx) => new RegularJoinOperator({ ttl: 40, type, fn: ((l: { v: number } | null, r: { v: number } | null) => `${l?.v ?? '-'}|${r?.v ?? '-'}`) as never }, ctx)
    fc.assert(
      fc.property(stepsArb(2, true), (steps) => check(build, steps)),
      { numRuns: 100 },
    )
  })
}

test('keyed aggregate of a changelog: base and deltas restore what a full snapshot restores, at any parallelism', () => {
  const a = agg.fields({ n: agg.count<{ v: number }>(), total: agg.sum<{ v: number }>((x) => x.v), top: agg.max<{ v: number }>((x) => x.v, { retractable: true }) })
  const build: Build = (ctx) => new KeyedAggregateOperator(a, ctx)
  fc.assert(
    fc.property(stepsArb(1, true), (steps) => check(build, steps)),
    { numRuns: 80 },
  )
})

const windowCases: [string, WindowAssigner, Trigger | undefined, number][] = [
  ['tumbling, event time, lateness 5', window.tumbling({ size: 10 }), undefined, 5],
  ['sliding, event time', window.sliding({ size: 20, slide: 10 }), undefined, 0],
  ['session (merging), event time', window.session({ gap: 7 }), undefined, 3],
  ['tumbling, early results in processing time', window.tumbling({ size: 20 }), trigger.early({ every: 15 }), 0],
  ['global, count trigger', window.global(), trigger.count(3), 0],
]
for (const [name, assigner, trig, allowedLateness] of windowCases) {
  test(`window on the durable store (${name}): base and deltas restore what a full snapshot restores, at any parallelism`, () => {
    const build: Build = (ctx) =>
      new WindowOperator({ assigner, trigger: trig ?? assigner.defaultTrigger(), aggregate: agg.sum<{ v: number }>((x) => x.v), allowedLateness, lateTag: 'late' }, ctx)
    fc.assert(
      fc.property(stepsArb(1, false), (steps) => check(build, steps, ['windows', 'event', 'processing'], 'durable')),
      { numRuns: 40 },
    )
  })
}

const pairOf = ((l: { v: number } | null, r: { v: number } | null) => `${l?.v ?? '-'}|${r?.v ?? '-'}`) as never
const joinCases: [string, Build, string[]][] = [
  ['window join (tumbling, full)', (ctx) => new WindowJoinOperator({ assigner: window.tumbling({ size: 10 }), type: 'full', fn: pairOf }, ctx), ['windows', 'timers']],
  ['window join (sliding, left)', (ctx) => new WindowJoinOperator({ assigner: window.sliding({ size: 20, slide: 10 }), type: 'left', fn: pairOf }, ctx), ['windows', 'timers']],
  ['interval join (inner, [-5, 5])', (ctx) => new IntervalJoinOperator({ lower: -5, upper: 5, type: 'inner', fn: pairOf }, ctx), ['buffers', 'left', 'right']],
  ['interval join (left, [0, 8])', (ctx) => new IntervalJoinOperator({ lower: 0, upper: 8, type: 'left', fn: pairOf }, ctx), ['buffers', 'left', 'right']],
]
for (const [name, build, lists] of joinCases) {
  test(`${name} on the durable store: base and deltas restore what a full snapshot restores, at any parallelism`, () => {
    fc.assert(
      fc.property(stepsArb(2, false), (steps) => check(build, steps, lists, 'durable')),
      { numRuns: 100 },
    )
  })
}

test('a window delta holds the changed keys with their windows and timers only; on the heap, snapshots stay full', () => {
  const build: Build = (ctx) => new WindowOperator({ assigner: window.tumbling({ size: 10 }), trigger: trigger.eventTime(), aggregate: agg.count(), allowedLateness: 0, lateTag: 'late' }, ctx)
  const heap = new OperatorHarness(build, { state: 'heap' })
  assert.equal(heap.operator.snapshotIncremental, undefined)
  heap.close()
  const h = new OperatorHarness(build, { state: 'durable' })
  const op = h.operator
  h.push([
    { key: 'a', value: 1, time: 1 },
    { key: 'b', value: 1, time: 12 },
  ])
  op.snapshotIncremental!(true)
  h.push([{ key: 'b', value: 1, time: 15 }])
  const d = redistributeKeyed([op.snapshotIncremental!(false)], 1)[0]
  assert.deepEqual(readEntries(d, 'windows').map(([, k]) => k), ['b'])
  assert.deepEqual(readEntries(d, 'event').map(([, k, t]) => [k, t]), [['b', 19]])
  // The watermark fires a's window: a is in the next delta, without windows or timers.
  h.watermark(10)
  // Its groups read once (on the durable store a delta's groups are read as they are encoded, each once).
  const lazy = op.snapshotIncremental!(false)
  assert.equal(typeof Object.getOwnPropertyDescriptor(lazy.groups, 0)?.get, 'function', 'a key group is read when its turn comes, not all at once')
  const d2 = { ...lazy, groups: Object.fromEntries(Object.entries(lazy.groups)) }
  const g = redistributeKeyed([d2], 1)[0]
  assert.deepEqual(Object.values(d2.groups).flatMap((gr) => ((gr as Record<string, unknown>)[CHANGED_KEYS] as unknown[] | undefined) ?? []), ['a'])
  assert.deepEqual(readEntries(g, 'windows'), [])
  assert.deepEqual(readEntries(g, 'event'), [])
  assert.deepEqual(d2.shared, { wm: 10 })
  h.close()
})

test('a delta holds only the keys changed since the previous snapshot; a plain snapshot stops tracking', () => {
  const h = new OperatorHarness((ctx) => new KeyedAggregateOperator(agg.count(), ctx))
  const op = h.operator
  h.push([
    { key: 'a', value: 1, time: 1 },
    { key: 'b', value: 1, time: 1 },
  ])
  op.snapshotIncremental!(true)
  h.push([{ key: 'b', value: 1, time: 2 }])
  const d = op.snapshotIncremental!(false)
  assert.deepEqual(readEntries(redistributeKeyed([d], 1)[0], 'rows').map(([, k]) => k), ['b'])
  assert.deepEqual(
    readEntries(redistributeKeyed([op.snapshotIncremental!(false)], 1)[0], 'rows').map(([, k]) => k),
    [],
    'nothing changed since the previous delta',
  )
  op.snapshot!()
  assert.throws(() => op.snapshotIncremental!(false), /without a base/)
})

// A keyed process function with every kind of state, a TTL, deletes and timers of both clocks: on the durable
// store its deltas hold the cells it wrote or removed, and the keys whose timers changed.
interface Rec {
  k: unknown
  v: number
}
const processFn: KeyedProcessFunction<unknown, Rec, string> = {
  processElement(r, c) {
    const total = c.state.value<number>('total')
    const seen = c.state.list<number>('seen')
    const counts = c.state.map<number, number>('counts')
    const recent = c.state.value<number>({ name: 'recent', ttl: { ttl: 25 } })
    if (r.v === 0) {
      total.clear()
      seen.clear()
      counts.delete(1)
      c.timers.deleteEventTime(c.timestamp + 10)
    } else {
      total.set((total.get() ?? 0) + r.v)
      seen.add(r.v)
      counts.set(r.v, (counts.get(r.v) ?? 0) + 1)
      recent.set(r.v)
      c.timers.eventTime(c.timestamp + 10)
      if (r.v === 2) c.timers.processingTime(c.now + 20)
    }
    c.emit(`${String(c.key)} ${total.get()} ${seen.get().join(',')} ${JSON.stringify([...counts.entries()])} ${recent.get()}`)
  },
  onTimer(time, c) {
    const total = c.state.value<number>('total')
    c.emit(`${String(c.key)} timer ${time} ${c.timeDomain} ${total.get()} ${c.state.value<number>({ name: 'recent', ttl: { ttl: 25 } }).get()}`)
    if (c.timeDomain === 'processing') total.clear()
  },
}
const processBuild: Build = (ctx) => new KeyedProcessOperator(processFn, ctx)

/**
 * A snapshot's backend entries (`state`, or cells), as sorted lines; without those expired at `now` (a full
 * snapshot drops them first, a delta leaves them to the restore, which drops them when they are read).
 */
function cellsOf(snap: KeyedSnapshot, now = -Infinity): string[] {
  const out: string[] = []
  const add = (d: unknown[]) => {
    if (typeof d[4] !== 'number' || d[4] > now) out.push(JSON.stringify(d))
  }
  for (const g of Object.values(snap.groups)) {
    const data = g as Record<string, unknown>
    for (const [sid, entries] of Object.entries((data.state ?? {}) as Record<string, unknown[][]>)) for (const [id, ns, v, e] of entries) add([sid, ns, id, v, e])
    const cells = data.cells as { d: unknown[][] } | undefined
    if (cells !== undefined) for (const d of cells.d) add(d)
  }
  return out.sort()
}

test('keyed process function on the durable store: base and deltas restore what a full snapshot restores, at any parallelism', () => {
  fc.assert(
    fc.property(stepsArb(1, false), (steps) => {
      check(processBuild, steps, ['event', 'processing'], 'durable')
    }),
    { numRuns: 60 },
  )
})

test('a process function delta holds the cells written or removed and the keys whose timers changed; on the heap, snapshots stay full', () => {
  const heap = new OperatorHarness(processBuild, { state: 'heap' })
  assert.equal(heap.operator.snapshotIncremental, undefined)
  heap.close()
  const h = new OperatorHarness(processBuild, { state: 'durable', clock: new ManualClock(START) })
  const op = h.operator
  // 40 keys through the harness's cache of 8 cells (the store's own test covers changed cells the cache gave up).
  h.push(Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: { k: `k${i}`, v: 1 }, time: 1 })))
  const base = op.snapshotIncremental!(true)
  assert.equal(cellsOf(base).length, 160, 'total, seen, counts and recent of 40 keys')
  h.push([
    { key: 'k3', value: { k: 'k3', v: 0 }, time: 1 },
    { key: 'k7', value: { k: 'k7', v: 3 }, time: 5 },
  ])
  const lazy = op.snapshotIncremental!(false)
  assert.equal(typeof Object.getOwnPropertyDescriptor(lazy.groups, 0)?.get, 'function', 'a key group is read when its turn comes, not all at once')
  const d = { ...lazy, groups: Object.fromEntries(Object.entries(lazy.groups)) }
  const changed = Object.values(d.groups).flatMap((g) => ((g as Record<string, unknown>)[CHANGED_KEYS] as unknown[] | undefined) ?? [])
  // k3: total, seen and counts removed, its timer deleted; k7: four cells written, a timer added.
  assert.equal(changed.filter((k) => typeof k === 'string' && k.startsWith('\u0000cell')).length, 7)
  assert.deepEqual(changed.filter((k) => !(typeof k === 'string' && k.startsWith('\u0000cell'))).sort(), ['k3', 'k7'])
  assert.deepEqual(cellsOf(d).map((l) => JSON.parse(l).slice(0, 4)), [
    ['list:seen', '', 'k7', [1, 3]],
    ['map:counts', '', 'k7', [[1, 1], [3, 1]]],
    ['value:recent', '', 'k7', 3],
    ['value:total', '', 'k7', 4],
  ])
  const g = redistributeKeyed([d], 1)[0]
  assert.deepEqual(readEntries(g, 'event').map(([, k, t]) => [k, t]).sort(), [['k7', 11], ['k7', 15]])
  assert.deepEqual(
    Object.values(op.snapshotIncremental!(false).groups).filter((gr) => Object.keys(gr as object).length > 0),
    [],
    'nothing changed since the previous delta',
  )
  op.snapshot!()
  assert.throws(() => op.snapshotIncremental!(false), /without a base/)
  h.close()
})

test('a process function on the durable store: base and deltas merged hold the cells of a full snapshot, and restore on the heap as it does', () => {
  fc.assert(
    fc.property(stepsArb(1, false), (steps) => {
      const clock = new ManualClock(START)
      const inc = new OperatorHarness(processBuild, { state: 'durable', clock })
      const twin = new OperatorHarness(processBuild, { state: 'durable', clock: new ManualClock(START) })
      const layers: KeyedSnapshot[] = []
      try {
        steps.forEach((s, at) => {
          if (!('cut' in s)) {
            apply([inc], s)
            apply([twin], s)
            inc.take()
            twin.take()
            return
          }
          layers.push(structuredClone(inc.operator.snapshotIncremental!(layers.length === 0)))
          const merged = mergeKeyed(layers[0], layers.slice(1))
          const full = structuredClone(twin.operator.snapshot!()) as KeyedSnapshot
          assert.deepEqual(cellsOf(merged, clock.now()), cellsOf(full), `cells after cut ${layers.length}`)
          // The same output, though not in the same order: keys whose timers share a time fire on the heap in
          // the order they were restored in, the base's before a delta's (a full snapshot of the store lists them
          // in key order). Restored on the durable store, the order is the same too (see above).
          const rest = steps.slice(at + 1)
          const want = restoredRun(processBuild, full, 2, rest, clock.now(), twin.currentWatermark, { state: 'heap' })
          const got = restoredRun(processBuild, merged, 2, rest, clock.now(), inc.currentWatermark, { state: 'heap' })
          assert.deepEqual(got.sort(), want.sort(), `restored on the heap from base and ${layers.length - 1} deltas`)
        })
      } finally {
        inc.close()
        twin.close()
      }
    }),
    { numRuns: 50 },
  )
})
