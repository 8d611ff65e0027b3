import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, sink, source, window, type ErrorRecord, type Stream, type WindowResult } from '../index.ts'
import { PipelineHarness, type HarnessBuilder } from './index.ts'

interface Click {
  user: string
  n: number
}

const click = (user: string, time: number, n = 1) => ({ value: { user, n }, time })

/** Clicks per user in tumbling windows of 10 s; records later than the window go to the 'late' side output. */
function perUser(t: HarnessBuilder): void {
  const counts = t
    .input<Click>('clicks')
    .keyBy((c) => c.user)
    .window(window.tumbling({ size: '10s' }))
    .aggregate(agg.sum((c: Click) => c.n))
  counts.to(sink.collect(), { id: 'counts' })
  counts.sideOutput('late').to(sink.collect(), { id: 'late' })
}

test('an event-time window fires only once the watermark passes its end, whatever the arrival order', async () => {
  const h = await PipelineHarness.start(perUser)
  try {
    await h.push('clicks', [click('a', 7_000), click('b', 2_000), click('a', 1_000), click('a', 12_000)])
    assert.deepEqual(h.values('counts'), [])
    await h.watermark(9_998)
    assert.deepEqual(h.values('counts'), [], 'the window [0, 10s) is still open at 9998')
    await h.watermark(9_999)
    const fired = h.records<WindowResult<string, number>>('counts')
    assert.deepEqual(
      fired.map((r) => [r.value.key, r.value.start, r.value.end, r.value.value, r.kind]),
      [
        ['a', 0, 10_000, 2, '+I'],
        ['b', 0, 10_000, 1, '+I'],
      ].sort(),
    )
    assert.deepEqual(h.take('counts').length, 2)
    await h.end()
    assert.deepEqual(
      h.take<WindowResult<string, number>>('counts').map((r) => [r.value.key, r.value.start, r.value.value]),
      [['a', 10_000, 1]],
      'the end of input fires the last window',
    )
    assert.equal(h.summary?.status, 'finished')
  } finally {
    await h.close()
  }
})

test('late records go where the pipeline says: the late side output, not the closed window', async () => {
  const h = await PipelineHarness.start(perUser)
  try {
    await h.push('clicks', [click('a', 1_000)])
    await h.watermark(15_000)
    await h.push('clicks', [click('a', 3_000, 5), click('a', 16_000)])
    const late = h.values<{ reason: string; time: number; record: Click }>('late')
    assert.deepEqual(
      late.map((l) => [l.reason, l.time, l.record]),
      [['window-closed', 3_000, { user: 'a', n: 5 }]],
    )
    assert.deepEqual(
      h.values<WindowResult<string, number>>('counts').map((w) => [w.start, w.value]),
      [[0, 1]],
    )
  } finally {
    await h.close()
  }
})

test('a processing-time timer fires only when the manual clock reaches it', async () => {
  const build = (t: HarnessBuilder): Stream<string> =>
    t
      .input<Click>('clicks')
      .keyBy((c) => c.user)
      .process<string>({
        processElement(c, ctx) {
          ctx.timers.processingTime(ctx.now + 60_000)
        },
        onTimer(time, ctx) {
          ctx.emit(`${ctx.key}@${time}`)
        },
      })
  const h = await PipelineHarness.start(build)
  try {
    await h.push('clicks', [click('a', 1)])
    await h.advanceProcessingTime(59_999)
    assert.deepEqual(h.values(), [])
    await h.advanceProcessingTime(1)
    assert.deepEqual(h.values(), ['a@60000'])
  } finally {
    await h.close()
  }
})

test('snapshot, restore into a fresh harness and go on: the same output as a run without the break', async () => {
  const first = [click('a', 1_000), click('b', 4_000), click('a', 8_000, 3)]
  const second = [click('b', 9_000, 2), click('a', 11_000)]
  const straight = await PipelineHarness.start(perUser)
  await straight.push('clicks', first)
  await straight.watermark(5_000)
  await straight.push('clicks', second)
  await straight.watermark(20_000)
  const expected = straight.values('counts')
  await straight.close()

  const before = await PipelineHarness.start(perUser)
  await before.push('clicks', first)
  await before.watermark(5_000)
  const snap = await before.snapshot()
  assert.deepEqual(before.values('counts'), [])
  await before.close()

  const after = await PipelineHarness.start(perUser, { restore: snap })
  try {
    await after.push('clicks', second)
    await after.watermark(20_000)
    assert.deepEqual(after.values('counts'), expected)
    assert.equal(expected.length, 3)
  } finally {
    await after.close()
  }
})

test('a processing-time timer set before a snapshot fires after the restore, on the restored clock', async () => {
  const build = (t: HarnessBuilder): Stream<string> =>
    t
      .input<Click>('clicks')
      .keyBy((c) => c.user)
      .process<string>({
        processElement(_c, ctx) {
          ctx.timers.processingTime(ctx.now + 1_000)
        },
        onTimer(time, ctx) {
          ctx.emit(`${ctx.key}@${time}`)
        },
      })
  const before = await PipelineHarness.start(build)
  await before.advanceProcessingTime(500)
  await before.push('clicks', [click('a', 1)])
  const snap = await before.snapshot()
  await before.close()
  const after = await PipelineHarness.start(build, { restore: snap })
  try {
    assert.equal(after.clock.now(), 500)
    await after.advanceProcessingTime(999)
    assert.deepEqual(after.values(), [])
    await after.advanceProcessingTime(1)
    assert.deepEqual(after.values(), ['a@1500'])
  } finally {
    await after.close()
  }
})

const failOnOdd = (t: HarnessBuilder): Stream<number> =>
  t.input<number>('numbers').map((n) => {
    if (n % 2 === 1) throw new Error('odd')
    return n
  })

test("errors reach the dead letters under onError 'dead-letter', with the input's position", async () => {
  const h = await PipelineHarness.start(failOnOdd, { pipeline: { onError: 'dead-letter', retries: false } })
  try {
    await h.push('numbers', [0, 1, 2, 3].map((n) => ({ value: n, time: n })))
    assert.deepEqual(h.values(), [0, 2])
    const letters = await h.deadLetters()
    assert.deepEqual(
      letters.map((l) => [l.reason, l.step, l.position, l.record, l.error.message]),
      [
        ['user-function', 'map-1', 'numbers:1', 1, 'odd'],
        ['user-function', 'map-1', 'numbers:3', 3, 'odd'],
      ],
    )
    assert.deepEqual(h.errors(), [])
  } finally {
    await h.close()
  }
})

test("errors reach the errors stream under onError 'error-output'; under 'fail' the step that fed them rejects", async () => {
  const h = await PipelineHarness.start(failOnOdd, { pipeline: { onError: 'error-output' } })
  try {
    await h.push('numbers', [{ value: 5, time: 0 }])
    assert.deepEqual(
      h.errors().map((e: ErrorRecord) => [e.step, e.position, e.record]),
      [['map-1', 'numbers:0', 5]],
    )
  } finally {
    await h.close()
  }
  const failing = await PipelineHarness.start(failOnOdd)
  try {
    await assert.rejects(failing.push('numbers', [{ value: 1, time: 0 }]), /odd/)
  } finally {
    await failing.close()
  }
})

test('a whole pipeline runs with its sources as inputs (named by step id), its event-time function and its sinks recorded', async () => {
  const p = pipeline('orders')
  const totals = p
    .from(source.jsonl<{ id: string; at: string; amount: number }>('no/such/file.jsonl', { eventTime: (o) => Date.parse(o.at) }))
    .id('orders')
    .keyBy(() => 'all')
    .window(window.tumbling({ size: '1h' }))
    .aggregate(agg.sum((o: { amount: number }) => o.amount))
  totals.to(sink.jsonl('no/such/out.jsonl'), { id: 'totals' })
  const h = await PipelineHarness.start(p)
  try {
    await h.pushValues('orders', [
      { id: 'x', at: '2024-05-01T09:30:00Z', amount: 4 },
      { id: 'y', at: '2024-05-01T09:10:00Z', amount: 6 },
    ])
    await h.watermark(Date.UTC(2024, 4, 1, 10))
    assert.deepEqual(
      h.values<WindowResult<string, number>>('totals').map((w) => [new Date(w.start).toISOString(), w.value]),
      [['2024-05-01T09:00:00.000Z', 10]],
    )
    assert.throws(() => h.values('nope'), /no sink 'nope'/)
    await assert.rejects(h.push('nope', []), /no input 'nope'.*/)
  } finally {
    await h.close()
  }
  // The pipeline itself was not changed: another harness runs it again.
  const again = await PipelineHarness.start(p)
  await again.close()
})

test('with two inputs, a window waits for the watermarks of both', async () => {
  const h = await PipelineHarness.start((t) =>
    t
      .input<Click>('web')
      .union(t.input<Click>('app'))
      .keyBy((c) => c.user)
      .window(window.tumbling({ size: '10s' }))
      .aggregate(agg.sum((c: Click) => c.n)),
  )
  try {
    await h.push('web', [click('a', 1_000)])
    await h.push('app', [click('a', 2_000, 4)])
    await h.watermark(10_000, 'web')
    assert.deepEqual(h.values(), [], "the app input's watermark holds the window open")
    await h.watermark(10_000, 'app')
    assert.deepEqual(
      h.values<WindowResult<string, number>>().map((w) => [w.key, w.start, w.value]),
      [['a', 0, 5]],
    )
  } finally {
    await h.close()
  }
})

test('a changelog reaches the recorder with its kinds; table() applies it', async () => {
  const h = await PipelineHarness.start((t) =>
    t
      .input<Click>('clicks')
      .keyBy((c) => c.user)
      .aggregate(agg.sum((c: Click) => c.n)),
  )
  try {
    await h.push('clicks', [click('a', 1, 2), click('b', 2)])
    await h.push('clicks', [click('a', 3, 5)])
    assert.deepEqual(
      h.records<{ key: string; value: number }>().map((r) => [r.kind, r.value.key, r.value.value]),
      [
        ['+I', 'a', 2],
        ['+I', 'b', 1],
        ['-U', 'a', 2],
        ['+U', 'a', 7],
      ],
    )
    assert.deepEqual(h.table<{ key: string; value: number }>().map((r) => [r.key, r.value]).sort(), [
      ['a', 7],
      ['b', 1],
    ])
  } finally {
    await h.close()
  }
})
