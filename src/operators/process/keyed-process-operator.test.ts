import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { OperatorHarness, type HarnessRecord } from '../../testing/operator-harness.ts'
import { SluiceError } from '../../core/errors.ts'
import type { Batch } from '../../core/batch.ts'
import type { ErrorPolicy, Output } from '../../core/operator.ts'
import { KeyedProcessOperator } from './keyed-process-operator.ts'
import type { KeyedProcessFunction } from './process-function.ts'

function processHarness<T, O>(fn: KeyedProcessFunction<string, T, O>, onError: ErrorPolicy = 'fail'): OperatorHarness {
  return new OperatorHarness((ctx) => new KeyedProcessOperator(fn as KeyedProcessFunction<unknown, T, O>, ctx), { stepId: 'detect', onError })
}

const values = (rs: HarnessRecord[]) => rs.map((r) => r.value)

/** Counts records per key in value state; emits [key, count] for each record. */
const counter: KeyedProcessFunction<string, string, [string, number]> = {
  processElement(_v, ctx) {
    const s = ctx.state.value<number>('n')
    const n = (s.get() ?? 0) + 1
    s.set(n)
    ctx.emit([ctx.key, n])
  },
}

test('keyed state is isolated per key', () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 10 }), { maxLength: 10 }), fc.nat(10), (batches, restoreAt) => {
      const h = processHarness(counter)
      const ref = new Map<string, number>()
      const expected: [string, number][] = []
      batches.forEach((keys, i) => {
        h.push(keys.map((k) => ({ key: k, value: k, time: 0 })))
        for (const k of keys) {
          ref.set(k, (ref.get(k) ?? 0) + 1)
          expected.push([k, ref.get(k)!])
        }
        if (i === restoreAt) h.snapshotAndRestore()
      })
      assert.deepEqual(values(h.take()), expected)
    }),
    { numRuns: 200 },
  )
})

test('map and list state, and clearing them, per key', () => {
  const h = processHarness<{ tag: string }, unknown>({
    processElement(v, ctx) {
      if (v.tag === 'clear') {
        ctx.state.map<string, number>('m').clear()
        ctx.state.list<string>('l').clear()
        return
      }
      const m = ctx.state.map<string, number>('m')
      m.set(v.tag, (m.get(v.tag) ?? 0) + 1)
      ctx.state.list<string>('l').add(v.tag)
      ctx.emit({ key: ctx.key, m: [...m.entries()], l: [...ctx.state.list<string>('l').get()] })
    },
  })
  h.push([
    { key: 'a', value: { tag: 'x' }, time: 0 },
    { key: 'b', value: { tag: 'y' }, time: 0 },
    { key: 'a', value: { tag: 'x' }, time: 0 },
  ])
  h.snapshotAndRestore()
  h.push([
    { key: 'a', value: { tag: 'z' }, time: 0 },
    { key: 'b', value: { tag: 'clear' }, time: 0 },
    { key: 'b', value: { tag: 'w' }, time: 0 },
  ])
  assert.deepEqual(values(h.take()), [
    { key: 'a', m: [['x', 1]], l: ['x'] },
    { key: 'b', m: [['y', 1]], l: ['y'] },
    { key: 'a', m: [['x', 2]], l: ['x', 'x'] },
    { key: 'a', m: [['x', 2], ['z', 1]], l: ['x', 'x', 'z'] },
    { key: 'b', m: [['w', 1]], l: ['w'] },
  ])
})

interface Fired {
  at: number
  key: string
  timestamp: number
  watermark: number
  domain: string
}

/** Sets an event-time timer 10 ms after each record, and a processing-time one 100 ms from now. */
const timed: KeyedProcessFunction<string, number, Fired | string> = {
  processElement(t, ctx) {
    ctx.timers.eventTime(t + 10)
    if (t === 0) ctx.timers.processingTime(ctx.now + 100)
    if (t < 0) ctx.timers.deleteEventTime(-t + 10)
    ctx.state.value<number>('seen').set(t)
  },
  onTimer(time, ctx) {
    ctx.emit({ at: time, key: ctx.key, timestamp: ctx.timestamp, watermark: ctx.watermark, domain: ctx.timeDomain })
    if (ctx.timeDomain === 'event') ctx.side('audit', `${ctx.key}:${ctx.state.value<number>('seen').get()}`)
  },
}

test('event-time timers fire at the watermark with the key and timestamp set', () => {
  const h = processHarness(timed)
  h.push([
    { key: 'a', value: 5, time: 5 },
    { key: 'b', value: 5, time: 5 },
    { key: 'a', value: 1, time: 1 },
  ])
  h.watermark(10)
  assert.deepEqual(h.take(), [], 'no timer is due at watermark 10')
  h.watermark(11)
  assert.deepEqual(values(h.take()), [{ at: 11, key: 'a', timestamp: 11, watermark: 11, domain: 'event' }])
  h.watermark(100)
  const fired = h.take()
  assert.deepEqual(values(fired), [
    { at: 15, key: 'a', timestamp: 15, watermark: 100, domain: 'event' },
    { at: 15, key: 'b', timestamp: 15, watermark: 100, domain: 'event' },
  ])
  assert.deepEqual(
    fired.map((r) => r.time),
    [15, 15],
    'a timer emits at its time',
  )
  assert.deepEqual(values(h.takeSide('audit')), ['a:1', 'a:1', 'b:5'])
})

test('a deleted event-time timer does not fire', () => {
  const h = processHarness(timed)
  h.push([{ key: 'a', value: 7, time: 7 }])
  h.push([{ key: 'a', value: -7, time: 0 }])
  h.end()
  assert.deepEqual(
    values(h.take()).map((f) => (f as Fired).at),
    [3],
    'the timer at 17 was deleted; the one at -7 + 10 remains',
  )
})

test('processing-time timers fire when the clock reaches them', () => {
  const h = processHarness(timed)
  h.push([{ key: 'a', value: 0, time: 0 }])
  h.advanceProcessingTime(99)
  assert.deepEqual(h.take(), [])
  h.advanceProcessingTime(1)
  assert.deepEqual(values(h.take()), [{ at: 100, key: 'a', timestamp: 100, watermark: -Infinity, domain: 'processing' }])
})

test('processing-time timers still pending fire at the end of a bounded input', () => {
  const h = processHarness(timed)
  h.push([{ key: 'z', value: 0, time: 0 }])
  h.end()
  assert.deepEqual(
    values(h.take()).map((f) => [(f as Fired).domain, (f as Fired).at]),
    [
      ['event', 10],
      ['processing', 100],
    ],
  )
})

test('snapshot/restore preserves keyed state and both kinds of timers', () => {
  const script = (restore: boolean) => {
    const h = processHarness(timed)
    h.push([
      { key: 'a', value: 0, time: 0 },
      { key: 'b', value: 20, time: 20 },
    ])
    h.watermark(5)
    if (restore) h.snapshotAndRestore()
    h.advanceProcessingTime(100)
    h.watermark(15)
    if (restore) h.snapshotAndRestore()
    h.push([{ key: 'a', value: 30, time: 30 }])
    h.end()
    return { main: h.take(), audit: h.takeSide('audit') }
  }
  const straight = script(false)
  assert.deepEqual(script(true), straight)
  assert.deepEqual(
    values(straight.main).map((f) => `${(f as Fired).domain}:${(f as Fired).key}@${(f as Fired).at}`),
    ['processing:a@100', 'event:a@10', 'event:b@30', 'event:a@40'],
  )
  assert.deepEqual(values(straight.audit), ['a:0', 'b:20', 'a:30'])
})

test('side outputs carry the record time unless told otherwise', () => {
  const h = processHarness<number, number>({
    processElement(v, ctx) {
      if (v % 2 === 0) ctx.emit(v)
      else ctx.side('odd', v, v * 100)
    },
  })
  h.push([1, 2, 3].map((v) => ({ key: 'k', value: v, time: v })))
  assert.deepEqual(h.take(), [{ value: 2, time: 2, kind: '+I' }])
  assert.deepEqual(h.takeSide('odd'), [
    { value: 1, time: 100, kind: '+I' },
    { value: 3, time: 300, kind: '+I' },
  ])
})

const flaky: KeyedProcessFunction<string, number, number> = {
  processElement(v, ctx) {
    if (v === 13) throw new Error('unlucky number')
    ctx.emit(v)
  },
}

test("error policy 'fail' stops with SLUICE_USER_FUNCTION_FAILED naming the step", () => {
  const h = processHarness(flaky, 'fail')
  assert.throws(
    () => h.push([12, 13, 14].map((v) => ({ key: 'k', value: v, time: v }))),
    (e: unknown) =>
      e instanceof SluiceError && e.code === 'SLUICE_USER_FUNCTION_FAILED' && e.step === 'detect' && e.describe().includes("step 'detect'") && e.message.includes('unlucky number') && e.domain === 'user',
  )
})

test("error policy 'skip' drops the failing record and counts it", () => {
  const h = processHarness(flaky, 'skip')
  h.push([12, 13, 14, 13].map((v) => ({ key: 'k', value: v, time: v })))
  assert.deepEqual(values(h.take()), [12, 14])
  assert.equal(h.metrics.errors, 2)
  assert.equal(h.metrics.dropped, 2)
  assert.deepEqual(h.takeErrors(), [])
})

test("error policy 'error-output' sends ErrorRecords with the step, message and position", () => {
  const h = processHarness(flaky, 'error-output')
  const main: unknown[] = []
  const out: Output = { emit: (b) => main.push(...b.values), side: () => {} }
  const batch: Batch = { values: [12, 13, 14], times: [1, 2, 3], keys: ['k', 'k', 'k'], pos: ['in.jsonl:1', 'in.jsonl:2', 'in.jsonl:3'] }
  h.operator.process(batch, out, 0)
  assert.deepEqual(main, [12, 14])
  assert.deepEqual(h.takeErrors(), [{ step: 'detect', error: 'unlucky number', position: 'in.jsonl:2', record: 13 }])
  assert.equal(h.metrics.errors, 1)
  // Without a source position, position is null.
  h.push([{ key: 'k', value: 13, time: 5 }])
  assert.deepEqual(h.takeErrors(), [{ step: 'detect', error: 'unlucky number', position: null, record: 13 }])
})

test('a failing onTimer follows the error policy too', () => {
  const h = processHarness<number, number>(
    {
      processElement(v, ctx) {
        ctx.timers.eventTime(v)
      },
      onTimer() {
        throw new Error('timer broke')
      },
    },
    'error-output',
  )
  h.push([{ key: 'k', value: 4, time: 4 }])
  h.watermark(10)
  assert.deepEqual(h.takeErrors(), [{ step: 'detect', error: 'timer broke', position: null, record: { timer: 4, key: 'k' } }])
})

test("state declared with ttl { time: 'event' } expires on the watermark, processing time with ttl alone, and both survive a restore", () => {
  const fn: KeyedProcessFunction<string, string, [string, number, number]> = {
    processElement(_v, ctx) {
      const e = ctx.state.value<number>({ name: 'e', ttl: { ttl: '10s', time: 'event' } })
      const p = ctx.state.value<number>({ name: 'p', ttl: { ttl: '10s' } })
      const ne = (e.get() ?? 0) + 1
      const np = (p.get() ?? 0) + 1
      e.set(ne)
      p.set(np)
      ctx.emit([ctx.key, ne, np])
    },
  }
  const h = processHarness(fn)
  h.watermark(0)
  h.push([{ key: 'a', value: 'x', time: 0 }])
  h.advanceProcessingTime(11_000) // p expired, e not
  h.push([{ key: 'a', value: 'x', time: 1 }])
  h.snapshotAndRestore()
  h.watermark(10_500) // e written at watermark 0: expired; p written 0 s ago: kept
  h.push([{ key: 'a', value: 'x', time: 10_500 }])
  assert.deepEqual(values(h.take()), [
    ['a', 1, 1],
    ['a', 2, 1],
    ['a', 1, 2],
  ])
})
