import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock, formatSummary, pipeline, run, sink, source, window, type ErrorRecord, type WindowResult } from '../../src/index.ts'

// One far-future timestamp must not carry the watermark ahead and make every later record late: a source's
// maxFutureSkew (default one day) sends it to the error path. A watermark that jumps by more than a day is
// worth a warning in the summary.

const T0 = Date.UTC(2026, 5, 1)
const YEAR_3000 = Date.UTC(3000, 0, 1)

interface Ev {
  id: number
  ts: number
}

async function countPerWindow(events: Ev[], maxFutureSkew?: string | false) {
  const p = pipeline('future', { onError: 'error-output', batchSize: 4 })
  const out = sink.collect<WindowResult<'all', number>>()
  const errors = sink.collect<ErrorRecord>()
  p.from(source.collection(events, { eventTime: (e) => e.ts, ...(maxFutureSkew !== undefined ? { maxFutureSkew } : {}) }))
    .id('in')
    .keyBy(() => 'all')
    .window(window.tumbling({ size: '1m' }))
    .count()
    .to(out)
  p.errors().to(errors)
  const summary = await run(p, { clock: new ManualClock(T0 + 3_600_000) })
  return { summary, out: out.values, errors: errors.values }
}

const events: Ev[] = Array.from({ length: 20 }, (_, i) => ({ id: i, ts: T0 + i * 10_000 }))
events.splice(5, 0, { id: 99, ts: YEAR_3000 })

test('a record stamped in the year 3000 goes to the error path and leaves the watermark alone', async () => {
  const { summary, out, errors } = await countPerWindow(events)
  assert.equal(summary.late, 0, 'no record after it is late')
  assert.equal(out.reduce((a, r) => a + r.value, 0), 20, 'every other record is counted')
  assert.equal(errors.length, 1)
  assert.equal(errors[0].step, 'in')
  assert.match(errors[0].error, /the record's event time is \d+ days ahead of the clock, more than maxFutureSkew \(24 hours\)/)
  assert.equal(summary.warnings, undefined)
})

test('maxFutureSkew: false turns the guard off: the record then carries the watermark ahead (what the guard prevents)', async () => {
  const { summary, errors } = await countPerWindow(events, false)
  assert.equal(errors.length, 0)
  assert.ok(summary.late > 0, 'records after it are late')
  assert.match(summary.warnings?.[0] ?? '', /source 'in': the watermark jumped by \d+ days at once/)
})

test('a watermark that jumps by more than a day is a warning in the summary', async () => {
  const gap = [...events.filter((e) => e.id !== 99), { id: 100, ts: T0 + 4 * 86_400_000 }]
  const { summary } = await countPerWindow(gap, '5d')
  assert.deepEqual(summary.warnings?.length, 1)
  assert.match(summary.warnings![0], /source 'in': the watermark jumped by 3 days at once/)
  assert.match(formatSummary(summary), /^warning: source 'in': the watermark jumped/m)
})

test('maxFutureSkew is a duration', async () => {
  const soon = [{ id: 1, ts: T0 + 2 * 3_600_000 }]
  assert.equal((await countPerWindow(soon, '30m')).errors.length, 1)
  assert.equal((await countPerWindow(soon, '2h')).errors.length, 0)
})
