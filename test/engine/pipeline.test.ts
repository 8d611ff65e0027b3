import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, run, sink, source, window, SluiceError, type ErrorPolicy, type ErrorRecord, type RunSummary } from '../../src/index.ts'

const metricsOf = (s: RunSummary, step: string) => s.steps.find((m) => m.step === step)

test('a fused map/filter/flatMap chain gives the expected records and per-step metrics', async () => {
  const xs = Array.from({ length: 1000 }, (_, i) => i)
  const out = sink.collect<string>()
  const p = pipeline('chain', { batchSize: 64 })
  p.from(source.collection(xs))
    .map((x) => x * 3)
    .id('triple')
    .filter((x) => x % 2 === 0)
    .id('even')
    .flatMap((x) => (x % 4 === 0 ? [`${x}`, `${x}!`] : []))
    .id('expand')
    .to(out)
  const s = await run(p)
  const expected = xs.map((x) => x * 3).filter((x) => x % 2 === 0).flatMap((x) => (x % 4 === 0 ? [`${x}`, `${x}!`] : []))
  assert.deepEqual(out.values, expected)
  assert.equal(s.status, 'finished')
  assert.equal(s.recordsIn, 1000)
  assert.deepEqual(metricsOf(s, 'triple'), { step: 'triple', kind: 'map', in: 1000, out: 1000, late: 0, errors: 0, dropped: 0 })
  assert.deepEqual(metricsOf(s, 'even'), { step: 'even', kind: 'filter', in: 1000, out: 500, late: 0, errors: 0, dropped: 0 })
  assert.deepEqual(metricsOf(s, 'expand'), { step: 'expand', kind: 'flatMap', in: 500, out: 500, late: 0, errors: 0, dropped: 0 })
  assert.deepEqual(metricsOf(s, 'sink-collect-1'), { step: 'sink-collect-1', kind: 'sink-collect', in: 500, out: 500, late: 0, errors: 0, dropped: 0 })
  assert.ok(out.closed)
})

test('changelog kinds and positions ride through a chain untouched', async () => {
  const out = sink.collect<{ key: string; value: number }>()
  const p = pipeline('kinds')
  p.from(source.collection(['a', 'b', 'a', 'a']))
    .keyBy((x) => x)
    .aggregate(agg.count())
    .map((r) => ({ ...r, value: r.value * 10 }))
    .to(out)
  await run(p)
  assert.deepEqual(
    out.records.map((r) => [r.kind, r.value.key, r.value.value]),
    [
      ['+I', 'a', 30],
      ['+I', 'b', 10],
    ],
  )
  const q = pipeline('kinds2', { batchSize: 1 })
  const out2 = sink.collect<{ key: string; value: number }>()
  q.from(source.collection(['a', 'a']))
    .keyBy((x) => x)
    .aggregate(agg.count())
    .filter(() => true)
    .to(out2)
  await run(q)
  assert.deepEqual(
    out2.records.map((r) => r.kind),
    ['+I', '-U', '+U'],
  )
  assert.deepEqual(out2.table(), [{ key: 'a', value: 2 }])
})

async function failingMap(policy: ErrorPolicy) {
  const errs = sink.collect<ErrorRecord>()
  const out = sink.collect<number>()
  const p = pipeline('errors', { onError: policy, batchSize: 4 })
  p.from(source.collection([1, 2, 3, 4, 5, 6, 7]))
    .map((x) => {
      if (x % 3 === 0) throw new Error(`no multiples of three`)
      return x * 10
    })
    .id('scale')
    .to(out)
  p.errors().to(errs)
  return { run: run(p), out, errs }
}

test("error policy 'fail' stops the run with SLUICE_USER_FUNCTION_FAILED naming the step and position", async () => {
  const { run: r, errs } = await failingMap('fail')
  await assert.rejects(r, (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_USER_FUNCTION_FAILED' && e.step === 'scale' && e.position === 2 && e.message.includes('no multiples of three'))
  assert.deepEqual(errs.values, [])
})

test("error policy 'skip' drops failing records and counts them", async () => {
  const { run: r, out, errs } = await failingMap('skip')
  const s = await r
  assert.deepEqual(out.values, [10, 20, 40, 50, 70])
  assert.deepEqual(errs.values, [])
  assert.equal(s.errors, 2)
  assert.equal(s.dropped, 2)
  assert.deepEqual(metricsOf(s, 'scale'), { step: 'scale', kind: 'map', in: 7, out: 5, late: 0, errors: 2, dropped: 2 })
})

test("error policy 'error-output' sends the step id, message and position to errors()", async () => {
  const { run: r, out, errs } = await failingMap('error-output')
  const s = await r
  assert.deepEqual(out.values, [10, 20, 40, 50, 70])
  assert.deepEqual(errs.values, [
    { step: 'scale', error: 'no multiples of three', position: 2, record: 3 },
    { step: 'scale', error: 'no multiples of three', position: 5, record: 6 },
  ])
  assert.equal(s.errors, 2)
  assert.equal(s.dropped, 0)
})

test('an event-time window over a source without eventTime fails with SLUICE_NO_EVENT_TIME naming the step', async () => {
  const p = pipeline('no-et')
  p.from(source.collection([{ k: 1 }]))
    .keyBy((r) => r.k)
    .window(window.tumbling({ size: '1m' }))
    .count()
    .id('per-minute')
    .to(sink.collect())
  await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_NO_EVENT_TIME' && e.step === 'per-minute' && e.message.includes("'per-minute'"))
  // A processing-time window needs no event time.
  const q = pipeline('pt')
  const out = sink.collect<unknown>()
  q.from(source.collection([{ k: 1 }, { k: 1 }]))
    .keyBy((r) => r.k)
    .window(window.tumbling({ size: '1h', time: 'processing' }))
    .count()
    .to(out)
  await run(q)
  assert.equal(out.values.length, 1)
})

test('an invalid duration names the step', () => {
  const p = pipeline('bad-duration')
  const keyed = p.from(source.collection([1], { eventTime: (x) => x })).keyBy((x) => x)
  assert.throws(
    () => keyed.window(window.tumbling({ size: 10 }), { allowedLateness: '5 parsecs' }).count(),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_DURATION' && e.message.includes("step 'window-aggregate-1'") && e.message.includes('5 parsecs'),
  )
})

test('an invalid idle timeout names the source step when the run starts', async () => {
  const p = pipeline('bad-idle')
  p.from(source.collection([1], { eventTime: (x) => x, idleTimeout: 'soon' }))
    .id('clicks')
    .to(sink.collect())
  await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_DURATION' && e.message.includes("'clicks'"))
})

test('two steps with one id are refused', async () => {
  const p = pipeline('dup')
  const s = p.from(source.collection([1, 2]))
  s.map((x) => x + 1).id('step').to(sink.collect())
  s.map((x) => x - 1).id('step').to(sink.collect())
  await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_DUPLICATE_STEP_ID' && e.message.includes("'step'"))
})

test('late records of a pipeline window reach the late side output and the summary', async () => {
  const out = sink.collect<unknown>()
  const late = sink.collect<{ record: number; reason: string; step: string }>()
  const p = pipeline('late', { batchSize: 1 })
  const w = p
    .from(source.collection([1, 2, 30, 3], { eventTime: (x) => x }))
    .keyBy(() => 'k')
    .window(window.tumbling({ size: 10 }))
    .count()
    .id('w')
  w.to(out)
  w.sideOutput<{ record: number; reason: string; step: string }>('late').to(late)
  const s = await run(p)
  assert.deepEqual(
    late.values.map((l) => [l.record, l.reason, l.step]),
    [[3, 'window-closed', 'w']],
  )
  assert.equal(s.late, 1)
  assert.deepEqual(
    out.values.map((r) => (r as { value: number }).value),
    [2, 1],
  )
})

test('count and global windows need no event time', async () => {
  const out = sink.collect<{ value: number }>()
  const p = pipeline('count-window')
  const s = p.from(source.collection([1, 2, 3, 4, 5])).keyBy(() => 0)
  s.window(window.count(2)).count().to(out)
  const all = sink.collect<{ value: number }>()
  s.window(window.global()).aggregate(agg.sum((x: number) => x)).to(all)
  await run(p)
  // The fifth record's window never fills: it is dropped at the end of input (fireIncompleteAtEnd emits it).
  assert.deepEqual(
    out.values.map((r) => r.value),
    [2, 2],
  )
  assert.deepEqual(
    all.values.map((r) => r.value),
    [15],
  )
})
