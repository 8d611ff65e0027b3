import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DELETE, INSERT, type RowKind } from '../core/batch.ts'
import { ManualClock } from '../core/clock.ts'
import { DEFAULT_KEY_GROUPS, keyGroupOf, keyId, subtaskOfKey, subtaskOfKeyGroup } from '../core/key.ts'
import type { KeyedSnapshot, Operator, OperatorContext } from '../core/operator.ts'
import { redistributeKeyed } from '../checkpoint/redistribute.ts'
import { OperatorHarness, type HarnessRecord } from '../testing/operator-harness.ts'
import { agg } from './aggregate/functions.ts'
import { CoProcessOperator } from './join/co-process-operator.ts'
import { IntervalJoinOperator } from './join/interval-join-operator.ts'
import type { JoinType, KeyedCoProcessFunction } from './join/join-types.ts'
import { RegularJoinOperator } from './join/regular-join-operator.ts'
import { WindowJoinOperator } from './join/window-join-operator.ts'
import { KeyedAggregateOperator } from './keyed-aggregate/keyed-aggregate-operator.ts'
import { KeyedProcessOperator } from './process/keyed-process-operator.ts'
import type { KeyedProcessFunction } from './process/process-function.ts'
import { window, type WindowAssigner } from './window/assigners.ts'
import { trigger, type Trigger } from './window/triggers.ts'
import { WindowOperator } from './window/window-operator.ts'

type Build = (ctx: OperatorContext) => Operator

interface In {
  key: unknown
  value: unknown
  time: number
  kind?: RowKind
}

/** A step of a run: a batch on one input, a watermark (broadcast), or processing time moving on (everywhere). */
type Step = { push: In[]; input: number } | { wm: number } | { advance: number }

/** Everything a run emitted, main and late output, as sortable lines (kinds included). */
type Lines = string[]

const START = 1_000

function collect(hs: OperatorHarness[], into: Lines): void {
  for (const h of hs) {
    for (const r of h.take()) into.push(line('main', r))
    for (const r of h.takeSide('late')) into.push(line('late', r))
  }
}

const line = (out: string, r: HarnessRecord) => `${out} ${r.kind} ${String(r.time)} ${JSON.stringify(r.value)}`

function harnesses(build: Build, parallelism: number, now: number): OperatorHarness[] {
  return Array.from({ length: parallelism }, (_, i) => new OperatorHarness(build, { subtask: i, parallelism, clock: new ManualClock(now) }))
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
  } else {
    for (const h of hs) h.advanceProcessingTime(s.advance)
  }
}

/** One uninterrupted instance. */
function straight(build: Build, steps: Step[]): Lines {
  const hs = harnesses(build, 1, START)
  const out: Lines = []
  for (const s of steps) apply(hs, s)
  for (const h of hs) h.end()
  collect(hs, out)
  for (const h of hs) h.close()
  return out.sort()
}

/**
 * Runs `steps` on `from` subtasks up to `at`, snapshots them, then goes on with the rest on `to` subtasks
 * restored from the redistributed snapshots. The old subtasks also go on (as the failed job would have).
 * Snapshots may share live state until they are copied (the runtime serializes them at once), so the
 * test copies them as the runtime does.
 */
function rescaled(build: Build, steps: Step[], at: number, from: number, to: number): { restored: Lines; continued: Lines } {
  const before = harnesses(build, from, START)
  const out: Lines = []
  for (const s of steps.slice(0, at)) apply(before, s)
  collect(before, out)
  const snaps = before.map((h) => structuredClone(h.operator.snapshot!()) as KeyedSnapshot)
  const wm = before[0].currentWatermark
  const now = before[0].clock.now()

  const continued = [...out]
  for (const s of steps.slice(at)) apply(before, s)
  for (const h of before) h.end()
  collect(before, continued)
  for (const h of before) h.close()

  const restores = OperatorHarness.redistribute(snaps, to)
  assert.equal(restores.length, to)
  const after = harnesses(build, to, now).map((h, i) => h.restoreFrom(restores[i], { watermark: wm }))
  const restored = [...out]
  for (const s of steps.slice(at)) apply(after, s)
  for (const h of after) h.end()
  collect(after, restored)
  for (const h of after) h.close()
  return { restored: restored.sort(), continued: continued.sort() }
}

const RESCALES: [number, number][] = [
  [2, 3],
  [3, 1],
  [1, 4],
  [2, 2],
]

function checkRescaling(build: Build, steps: Step[], at: number): void {
  const expected = straight(build, steps)
  for (const [from, to] of RESCALES) {
    const { restored, continued } = rescaled(build, steps, at, from, to)
    assert.deepEqual(continued, expected, `parallelism ${from} without a restore differs from parallelism 1`)
    assert.deepEqual(restored, expected, `snapshot at step ${at} at parallelism ${from}, restored at ${to}: output differs`)
  }
}

// ---- random inputs

/** Strings, numbers and a composite key: the key groups of all of them must match routing. */
const keyArb = fc.constantFrom<unknown>('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 7, 42, ['t', 1], ['t', 2])

interface StepOpts {
  inputs: number
  maxTime: number
  /** Values of a record, given its key and position. */
  value?: fc.Arbitrary<unknown>
  retractions?: boolean
  advance?: boolean
}

/** Steps with watermarks that only go forward, and records around them (some late). */
function stepsArb(o: StepOpts): fc.Arbitrary<Step[]> {
  const rec = fc.record({
    key: keyArb,
    time: fc.integer({ min: 0, max: o.maxTime }),
    value: o.value ?? fc.integer({ min: 0, max: 9 }),
    retract: o.retractions === true ? fc.boolean() : fc.constant(false),
  })
  const raw = fc.oneof(
    { weight: 4, arbitrary: fc.record({ push: fc.array(rec, { minLength: 1, maxLength: 8 }), input: fc.integer({ min: 0, max: o.inputs - 1 }) }) },
    { weight: 2, arbitrary: fc.record({ wmStep: fc.integer({ min: 0, max: Math.ceil(o.maxTime / 8) }) }) },
    ...(o.advance === true ? [{ weight: 1, arbitrary: fc.record({ advance: fc.integer({ min: 1, max: 30 }) }) }] : []),
  )
  return fc.array(raw, { minLength: 1, maxLength: 25 }).map((rs) => {
    let wm = -1
    let n = 0
    return rs.map((r): Step => {
      if ('wmStep' in r) return { wm: (wm += r.wmStep) }
      if ('advance' in r) return { advance: r.advance }
      return {
        input: r.input,
        // A value unique per record, so outputs can be told apart, with the generated part to join and aggregate on.
        push: r.push.map((x) => ({ key: x.key, time: x.time, value: { k: x.key, v: x.value, n: n++ }, kind: x.retract ? DELETE : INSERT })),
      }
    })
  })
}

const withSplit = (steps: fc.Arbitrary<Step[]>) => steps.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length })))

function property(steps: fc.Arbitrary<Step[]>, build: Build, numRuns = 60): void {
  fc.assert(
    fc.property(withSplit(steps), ([s, at]) => checkRescaling(build, s, at)),
    { numRuns },
  )
}

// ---- windows

interface V {
  k: unknown
  v: number
  n: number
}

function windowBuild(assigner: WindowAssigner, allowedLateness: number, trig?: Trigger): Build {
  // countDistinct keeps a Map it updates in place: a snapshot must not share it.
  const aggregate = agg.fields({ total: agg.sum<V>((x) => x.v), distinct: agg.countDistinct<V>((x) => x.v) })
  return (ctx) => new WindowOperator({ assigner, trigger: trig ?? assigner.defaultTrigger(), aggregate, allowedLateness, lateTag: 'late' }, ctx)
}

test('rescaling tumbling windows with allowed lateness gives the output of one uninterrupted instance', () => {
  property(stepsArb({ inputs: 1, maxTime: 120 }), windowBuild(window.tumbling({ size: 20 }), 15))
})

test('rescaling sliding windows with allowed lateness gives the output of one uninterrupted instance', () => {
  property(stepsArb({ inputs: 1, maxTime: 120 }), windowBuild(window.sliding({ size: 30, slide: 10 }), 10))
})

test('rescaling session windows (merges, retractions of merged results, lateness)', () => {
  property(stepsArb({ inputs: 1, maxTime: 150 }), windowBuild(window.session({ gap: 8 }), 12))
})

test('rescaling windows with an early trigger: processing-time timers move with their keys', () => {
  property(stepsArb({ inputs: 1, maxTime: 120, advance: true }), windowBuild(window.tumbling({ size: 40 }), 0, trigger.early({ every: 10 })))
})

test('rescaling windows of a count trigger (trigger state travels with the window)', () => {
  property(stepsArb({ inputs: 1, maxTime: 120 }), windowBuild(window.tumbling({ size: 50 }), 5, trigger.count(2)))
})

// ---- keyed aggregate

test('rescaling a keyed aggregate of a changelog gives the same changelog', () => {
  const a = agg.fields({ n: agg.count<V>(), total: agg.sum<V>((x) => x.v), top: agg.max<V>((x) => x.v, { retractable: true }) })
  property(stepsArb({ inputs: 1, maxTime: 50, retractions: true }), (ctx) => new KeyedAggregateOperator(a, ctx), 80)
})

// ---- keyed process and co-process

/**
 * Counts records and keeps the last three values per key; an event timer 10 after each record reports the
 * count, a processing timer 15 ms after every second record reports the list, and a value of 0 deletes the
 * pending event timer.
 */
const processFn: KeyedProcessFunction<unknown, V, unknown> = {
  processElement(v, ctx) {
    const n = ctx.state.value<number>('n')
    const count = (n.get() ?? 0) + 1
    n.set(count)
    const l = ctx.state.list<number>('last')
    l.set([...l.get(), v.v].slice(-3))
    const m = ctx.state.map<number, number>('seen')
    m.set(v.v, (m.get(v.v) ?? 0) + 1)
    ctx.timers.eventTime(ctx.timestamp + 10)
    if (v.v === 0) ctx.timers.deleteEventTime(ctx.timestamp + 10)
    if (count % 2 === 0) ctx.timers.processingTime(ctx.now + 15)
    ctx.emit({ key: ctx.key, count, n: v.n })
  },
  onTimer(time, ctx) {
    const seen = [...ctx.state.map<number, number>('seen').entries()].sort((a, b) => a[0] - b[0])
    ctx.emit({ key: ctx.key, time, domain: ctx.timeDomain, count: ctx.state.value<number>('n').get(), last: [...ctx.state.list<number>('last').get()], seen })
    if (ctx.timeDomain === 'processing') ctx.state.list<number>('last').clear()
  },
}

test('rescaling a keyed process function moves keyed state and both kinds of timers with their keys', () => {
  property(stepsArb({ inputs: 1, maxTime: 80, advance: true }), (ctx) => new KeyedProcessOperator(processFn, ctx), 80)
})

/** Input 0 keeps values (emitted as copies: state lists are live); input 1 emits them with its own and sets an event timer that clears them. */
const coFn: KeyedCoProcessFunction<unknown, V, V, unknown> = {
  processElement1(v, ctx) {
    ctx.state.list<number>('held').add(v.v)
    ctx.timers.processingTime(ctx.now + 20)
  },
  processElement2(v, ctx) {
    ctx.emit({ key: ctx.key, right: v.n, held: [...ctx.state.list<number>('held').get()] })
    ctx.timers.eventTime(ctx.timestamp + 5)
  },
  onTimer(time, ctx) {
    ctx.emit({ key: ctx.key, time, domain: ctx.timeDomain, held: [...ctx.state.list<number>('held').get()] })
    if (ctx.timeDomain === 'event') ctx.state.list<number>('held').clear()
  },
}

test('rescaling a co-process function (shared keyed state and timers of two inputs)', () => {
  property(stepsArb({ inputs: 2, maxTime: 80, advance: true }), (ctx) => new CoProcessOperator(coFn as never, ctx), 80)
})

// ---- joins

const pair = (l: V | null, r: V | null) => `${l?.n ?? '-'}|${r?.n ?? '-'}`

for (const type of ['inner', 'full'] as JoinType[]) {
  test(`rescaling a window join (${type}, tumbling and sliding)`, () => {
    property(stepsArb({ inputs: 2, maxTime: 100 }), (ctx) => new WindowJoinOperator({ assigner: window.tumbling({ size: 20 }), type, fn: pair as never }, ctx), 40)
    property(stepsArb({ inputs: 2, maxTime: 100 }), (ctx) => new WindowJoinOperator({ assigner: window.sliding({ size: 20, slide: 10 }), type, fn: pair as never }, ctx), 40)
  })
}

for (const type of ['inner', 'left'] as const) {
  test(`rescaling an interval join (${type})`, () => {
    property(stepsArb({ inputs: 2, maxTime: 100 }), (ctx) => new IntervalJoinOperator({ lower: -5, upper: 10, type, fn: pair as never }, ctx), 60)
  })
}

for (const type of ['inner', 'left', 'full'] as JoinType[]) {
  test(`rescaling a regular join (${type}) with retractions and a TTL`, () => {
    const steps = stepsArb({ inputs: 2, maxTime: 50, retractions: true, advance: true, value: fc.integer({ min: 0, max: 2 }) })
    // Retractions match stored rows by value: make the value depend only on what was generated, not on the record's position.
    const byValue = steps.map((ss) => ss.map((s) => ('push' in s ? { ...s, push: s.push.map((r) => ({ ...r, value: { k: (r.value as V).k, v: (r.value as V).v } })) } : s)))
    property(byValue, (ctx) => new RegularJoinOperator({ ttl: 40, type, fn: ((l: V | null, r: V | null) => `${l?.v ?? '-'}|${r?.v ?? '-'}`) as never }, ctx), 60)
  })
}

// ---- redistribution itself

test('keyGroupOf gives a key and its identity (keyId) the same group, so operator state, backend state and routing agree', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 })), (k) => {
      assert.equal(keyGroupOf(keyId(k)), keyGroupOf(k))
    }),
  )
})

test('redistributeKeyed gives each key group to the subtask that owns it now, and every shared part to every subtask', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.uniqueArray(fc.nat(DEFAULT_KEY_GROUPS - 1), { maxLength: 40 }), (from, to, groups) => {
      const snaps: KeyedSnapshot[] = Array.from({ length: from }, (_, i) => ({ keyGroups: DEFAULT_KEY_GROUPS, groups: {}, shared: { wm: i } }))
      for (const g of groups) snaps[subtaskOfKeyGroup(g, from)].groups[g] = { data: g }
      const rs = redistributeKeyed(snaps, to)
      assert.equal(rs.length, to)
      const seen: number[] = []
      rs.forEach((r, i) => {
        assert.equal(r.keyGroups, DEFAULT_KEY_GROUPS)
        assert.deepEqual(r.shared, snaps.map((s) => s.shared))
        for (const [g, d] of Object.entries(r.groups)) {
          assert.equal(subtaskOfKeyGroup(Number(g), to), i)
          assert.deepEqual(d, { data: Number(g) })
          seen.push(Number(g))
        }
      })
      assert.deepEqual(seen.sort((a, b) => a - b), [...groups].sort((a, b) => a - b))
    }),
  )
})

test('redistributeKeyed refuses a key group held twice, another number of key groups, and a parallelism out of range', () => {
  const snap = (groups: Record<number, unknown>, keyGroups = DEFAULT_KEY_GROUPS): KeyedSnapshot => ({ keyGroups, groups })
  assert.throws(() => redistributeKeyed([snap({ 3: 1 }), snap({ 3: 2 })], 2), { code: 'SLUICE_STATE_SNAPSHOT' })
  assert.throws(() => redistributeKeyed([snap({}), snap({}, 64)], 2), { code: 'SLUICE_STATE_KEY_GROUPS' })
  assert.throws(() => redistributeKeyed([snap({})], 0), { code: 'SLUICE_STATE_KEY_GROUPS' })
  assert.throws(() => redistributeKeyed([snap({})], DEFAULT_KEY_GROUPS + 1), { code: 'SLUICE_STATE_KEY_GROUPS' })
  assert.throws(() => redistributeKeyed([{ keys: [] } as never], 1), { code: 'SLUICE_STATE_SNAPSHOT' })
})

test('a keyed operator refuses to restore state of another number of key groups', () => {
  const h = new OperatorHarness(windowBuild(window.tumbling({ size: 10 }), 0))
  assert.throws(() => h.restoreFrom({ keyGroups: 64, groups: {}, shared: [] }), { code: 'SLUICE_STATE_KEY_GROUPS' })
})

test('a restored watermark is the lowest of the old subtasks: nothing one of them still held becomes late', () => {
  const build = windowBuild(window.tumbling({ size: 10 }), 0)
  const [a, b] = harnesses(build, 2, START)
  const ka = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => subtaskOfKey(k, 2) === 0)!
  const kb = ['a', 'b', 'c', 'd', 'e', 'f'].find((k) => subtaskOfKey(k, 2) === 1)!
  a.push([{ key: ka, value: { k: ka, v: 1, n: 0 }, time: 25 }]).watermark(20)
  b.push([{ key: kb, value: { k: kb, v: 2, n: 1 }, time: 15 }]).watermark(5)
  const [r] = OperatorHarness.redistribute([a.snapshot(), b.snapshot()], 1)
  const h = new OperatorHarness(build).restoreFrom(r)
  h.push([{ key: kb, value: { k: kb, v: 3, n: 2 }, time: 12 }])
  assert.deepEqual(h.takeSide('late'), [])
  h.end()
  assert.deepEqual(
    h.take().map((x) => x.value),
    [
      { key: kb, start: 10, end: 20, value: { total: 5, distinct: 2 } },
      { key: ka, start: 20, end: 30, value: { total: 1, distinct: 1 } },
    ],
  )
})
