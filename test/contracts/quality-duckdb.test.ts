import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DuckDBInstance } from '@duckdb/node-api'
import { expect, pipeline, run, sink, source, type QualityResult } from '../../src/index.ts'
import { formatSummary } from '../../src/runtime/summary.ts'
import { PrometheusExposition } from '../../src/observe/prometheus/exposition.ts'
import { MetricsRegistry } from '../../src/observe/metrics/registry.ts'

interface Bid {
  id: number
  auction: number
  price: number | null
  channel: string
  url: string | null
  ts: number
  seen: number
}
interface Auction {
  id: number
  ts: number
}

// Deterministic data with every kind of fault: duplicates, nulls, prices out of range, unknown channels, bad
// urls, late arrivals, bids on auctions never (or long ago) announced.
let seed = 42
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
const auctions: Auction[] = Array.from({ length: 300 }, (_, i) => ({ id: i, ts: i * 200 }))
const bids: Bid[] = Array.from({ length: 6000 }, (_, i) => {
  const ts = i * 10
  return {
    id: rnd() < 0.02 ? i - 1 : i,
    auction: Math.floor(ts / 200) - Math.floor(rnd() * 40) + (rnd() < 0.03 ? 1000 : 0),
    price: rnd() < 0.05 ? null : Math.round(rnd() * 1200) - 100,
    channel: ['web', 'app', 'tv', 'radio'][Math.floor(rnd() * 4)],
    url: rnd() < 0.1 ? null : rnd() < 0.1 ? 'ftp://x' : 'https://x/' + i,
    ts,
    seen: ts + Math.floor(rnd() * 3000),
  }
})

async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  await c.run(`CREATE TABLE bid (id BIGINT, auction BIGINT, price DOUBLE, channel VARCHAR, url VARCHAR, ts BIGINT, seen BIGINT)`)
  await c.run(`CREATE TABLE auction (id BIGINT, ts BIGINT)`)
  const a = await c.createAppender('bid')
  for (const b of bids) {
    a.appendBigInt(BigInt(b.id)); a.appendBigInt(BigInt(b.auction))
    if (b.price === null) a.appendNull()
    else a.appendDouble(b.price)
    a.appendVarchar(b.channel)
    if (b.url === null) a.appendNull()
    else a.appendVarchar(b.url)
    a.appendBigInt(BigInt(b.ts)); a.appendBigInt(BigInt(b.seen)); a.endRow()
  }
  a.closeSync()
  const au = await c.createAppender('auction')
  for (const x of auctions) {
    au.appendBigInt(BigInt(x.id)); au.appendBigInt(BigInt(x.ts)); au.endRow()
  }
  au.closeSync()
  const rows = (await (await c.run(sql)).getRowObjectsJson()) as Record<string, unknown>[]
  c.closeSync()
  return rows
}

test('on a bounded run every expectation equals the same check in DuckDB SQL, window by window', async () => {
  const p = pipeline('quality-duckdb')
  const auctionStream = p.from(source.collection(auctions, { eventTime: (a) => a.ts }))
  const quality = sink.collect<QualityResult>()
  p.from(source.collection(bids, { eventTime: (b) => b.ts }))
    .expect(
      [
        expect.notNull('price'),
        expect.inRange('price', { min: 0, max: 1000 }),
        expect.inSet('channel', ['web', 'app', 'tv']),
        expect.pattern('url', '^https://'),
        expect.unique('id'),
        expect.rowCount({ min: 1000 }),
        expect.freshness({ maxLag: '2s', field: 'seen' }),
        expect.distribution('price', { mean: { min: 400, max: 600 }, quantiles: { '0.5': { min: 0 }, '0.9': { max: 2000 } } }),
        expect.referential('auction', auctionStream, { otherField: 'id', within: '6s' }),
        expect.distribution('price', { name: 'price:baseline', baseline: { mean: 500, stddev: 345 }, tolerance: 0.02 }),
        expect.distribution('price', { name: 'price:drift', baseline: 'previous', tolerance: 0.01 }),
      ],
      { window: '10s' },
    )
    .id('bid-quality')
    .sideOutput<QualityResult>('quality')
    .to(quality)
  const summary = await run(p)
  const W = `(ts // 10000) * 10000`
  const expected = await duck(`
    SELECT ${W} AS w, count(*) AS n,
      count(*) FILTER (WHERE price IS NULL) AS "price:notNull",
      count(*) FILTER (WHERE price IS NOT NULL AND NOT (price BETWEEN 0 AND 1000)) AS "price:inRange",
      count(*) FILTER (WHERE channel NOT IN ('web', 'app', 'tv')) AS "channel:inSet",
      count(*) FILTER (WHERE url IS NOT NULL AND NOT regexp_matches(url, '^https://')) AS "url:pattern",
      count(id) - count(DISTINCT id) AS "id:unique",
      max(seen - ts) AS lag, avg(price) AS mean, stddev_samp(price) AS sd, count(price) AS pn,
      count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM auction a WHERE a.id = bid.auction AND a.ts <= bid.ts AND bid.ts - a.ts <= 6000)) AS "auction:referential"
    FROM bid GROUP BY ALL ORDER BY w`)
  assert.equal(expected.length, 6)
  for (const name of ['price:notNull', 'price:inRange', 'channel:inSet', 'url:pattern', 'id:unique', 'auction:referential']) {
    assert.ok(expected.every((r) => Number(r[name]) > 0), `the data has faults for ${name} in every window`)
  }
  const outcomes: string[] = []
  const byWindow = Map.groupBy(quality.values, (r) => r.windowStart)
  assert.equal(byWindow.size, expected.length)
  for (const row of expected) {
    const w = Number(row.w)
    const got = new Map(byWindow.get(w)!.map((r) => [r.expectation, r]))
    assert.equal(got.get('rowCount')!.observed.count, Number(row.n))
    assert.equal(got.get('rowCount')!.passed, Number(row.n) >= 1000)
    for (const name of ['price:notNull', 'price:inRange', 'channel:inSet', 'url:pattern', 'id:unique', 'auction:referential']) {
      assert.equal(got.get(name)!.failed, Number(row[name]), `${name} in window ${w}`)
      assert.equal(got.get(name)!.passed, Number(row[name]) === 0, `${name} in window ${w}`)
    }
    const fresh = got.get('seen:freshness')!
    assert.equal(fresh.observed.maxLagMs, Number(row.lag))
    assert.equal(fresh.passed, Number(row.lag) <= 2000)
    const dist = got.get('price:distribution')!
    assert.equal(dist.observed.count, Number(row.pn))
    assert.ok(Math.abs(dist.observed.mean! - Number(row.mean)) < 1e-9)
    assert.ok(Math.abs(dist.observed.stddev! - Number(row.sd)) < 1e-9)
    assert.equal(dist.passed, Number(row.mean) >= 400 && Number(row.mean) <= 600 && (dist.observed.p50 as number) >= 0)
    // Near a fixed baseline, and near the previous window's figures (the first window has none and passes).
    const near = (x: number, b: number, tol: number) => Math.abs(x - b) <= tol * Math.abs(b)
    const base = got.get('price:baseline')!
    assert.equal(base.passed, near(Number(row.mean), 500, 0.02) && near(Number(row.sd), 345, 0.02), `price:baseline in window ${w}`)
    assert.deepEqual([base.observed.baselineMean, base.observed.baselineStddev], [500, 345])
    const i = expected.indexOf(row)
    const prev = expected[i - 1]
    const drift = got.get('price:drift')!
    assert.equal(drift.passed, prev === undefined || (near(Number(row.mean), Number(prev.mean), 0.01) && near(Number(row.sd), Number(prev.sd), 0.01)), `price:drift in window ${w}`)
    if (prev !== undefined) assert.ok(Math.abs(drift.observed.baselineMean! - Number(prev.mean)) < 1e-9)
    outcomes.push(`${base.passed}/${drift.passed}`)
    // The sketch's median lies between DuckDB's exact quantiles at 0.5 ± the documented rank error.
    const [b] = await duck(`SELECT quantile_disc(price, 0.483) AS lo, quantile_disc(price, 0.517) AS hi FROM bid WHERE ${W} = ${w}`)
    assert.ok(dist.observed.p50! >= Number(b.lo) && dist.observed.p50! <= Number(b.hi), `p50 ${dist.observed.p50} not in [${b.lo}, ${b.hi}]`)
  }
  // Each baseline check both passes and fails somewhere in the data.
  for (const k of [0, 1]) assert.deepEqual(new Set(outcomes.map((o) => o.split('/')[k])), new Set(['true', 'false']), `outcomes ${outcomes.join(', ')}`)
  // The same results, summed per expectation, are the step's metrics: in the run summary and on /metrics.
  const totals: Record<string, { windows: number; windowsFailed: number; checked: number; failed: number }> = {}
  for (const r of quality.values) {
    const t = (totals[r.expectation] ??= { windows: 0, windowsFailed: 0, checked: 0, failed: 0 })
    t.windows++
    t.windowsFailed += r.passed ? 0 : 1
    t.checked += r.checked
    t.failed += r.failed
  }
  const row = summary.steps.find((x) => x.step === 'bid-quality')!
  assert.deepEqual(row.quality, totals)
  assert.ok(totals['price:notNull'].windowsFailed > 0 && totals['price:notNull'].failed > 0)
  const line = formatSummary(summary).split('\n').find((l) => l.startsWith("quality at 'bid-quality': "))!
  assert.ok(line.includes(`price:notNull FAILED ${totals['price:notNull'].windowsFailed} of 6 windows (${totals['price:notNull'].failed} of ${totals['price:notNull'].checked} records failed)`), line)
  const r = new MetricsRegistry({ pipeline: 'p' })
  r.step('bid-quality', 'expect', 0).quality = row.quality
  const text = await new PrometheusExposition().render(r.snapshot())
  const labels = 'pipeline="p",step="bid-quality",kind="expect",subtask="0",expectation="price:notNull"'
  assert.match(text, new RegExp(`^sluice_quality_windows_total\\{${labels},result="failed"\\} ${totals['price:notNull'].windowsFailed}$`, 'm'))
  assert.match(text, new RegExp(`^sluice_quality_windows_total\\{${labels},result="passed"\\} ${6 - totals['price:notNull'].windowsFailed}$`, 'm'))
  assert.match(text, new RegExp(`^sluice_quality_failed_records_total\\{${labels}\\} ${totals['price:notNull'].failed}$`, 'm'))
})
