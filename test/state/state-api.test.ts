import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agg, pipeline, readState, run, sink, source, start, SluiceError, writeSavepoint, type KeyedResult, type StateRow } from '../../src/index.ts'

interface Order {
  region: string
  amount: number
}

/** The job whose state is bootstrapped: totals per region, and a process function remembering each region's last order. */
function totalsJob(orders: Order[]) {
  const out = sink.collect<KeyedResult<string, number>>()
  const last = sink.collect<string>()
  const p = pipeline('totals')
  const keyed = p.from(source.collection(orders)).keyBy((o) => o.region)
  keyed.aggregate(agg.sum((o: Order) => o.amount)).id('totals').to(out)
  keyed
    .process<string>({
      processElement(o, ctx) {
        const seen = ctx.state.value<number>('orders')
        const n = (seen.get() ?? 0) + 1
        seen.set(n)
        ctx.state.value<number>('last').set(o.amount)
        ctx.emit(`${ctx.key}:${n}`)
      },
    })
    .id('last-order')
    .to(last)
  return { p, out, last }
}

test('bootstrap: a bounded job writes an aggregate and a process function state from JSONL history; the job restored from it continues from those values', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-state-api-'))
  try {
    const history = join(base, 'history.jsonl')
    writeFileSync(history, ['{"region":"eu","total":40,"orders":4}', '{"region":"us","total":7,"orders":1}', '{"region":"apac","total":0.5,"orders":2}'].join('\n') + '\n')
    const target = totalsJob([
      { region: 'eu', amount: 5 },
      { region: 'us', amount: 1 },
      { region: 'latam', amount: 3 },
      { region: 'eu', amount: 1 },
    ])
    const boot = join(base, 'savepoints', 'bootstrap')
    const bootstrap = pipeline('bootstrap-totals')
      .from(source.jsonl<{ region: string; total: number }>(history))
      .map((r) => ({ key: r.region, value: r.total }))
      .to(sink.savepoint({ pipeline: target.p, step: 'totals', dir: boot }))
    await run(bootstrap)
    assert.deepEqual(
      (await readState(boot, { step: 'totals' })).sort((a, b) => String(a.key).localeCompare(String(b.key))),
      [{ key: 'apac', value: 0.5 }, { key: 'eu', value: 40 }, { key: 'us', value: 7 }],
    )

    await run(target.p, { checkpoint: { dir: join(base, 'checkpoints'), intervalMs: 0, restoreFrom: boot } })
    assert.deepEqual(
      target.out.records.map((r) => [r.kind, r.value.key, r.value.value]),
      [['+I', 'eu', 46], ['+I', 'us', 8], ['+I', 'latam', 3]],
      'one batch: each key emits once, continuing from its bootstrapped total',
    )
    // The process function's state came from writeSavepoint too (a second savepoint: one step each).
    const target2 = totalsJob([{ region: 'eu', amount: 2 }])
    const boot2 = join(base, 'savepoints', 'bootstrap-last')
    const r = await writeSavepoint([{ key: 'eu', value: { orders: 4, last: 9 } }], { pipeline: target2.p, step: 'last-order', dir: boot2 })
    assert.equal(r.keys, 1)
    await run(target2.p, { checkpoint: { dir: join(base, 'checkpoints-2'), intervalMs: 0, restoreFrom: boot2 } })
    assert.deepEqual(target2.last.values, ['eu:5'])
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
})

test("readState gives a running job's state as rows, equal to what its input implies; source.state reads it in a pipeline", async () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-state-api-'))
  try {
    const orders: Order[] = Array.from({ length: 500 }, (_, i) => ({ region: `r${i % 37}`, amount: i % 11 }))
    const job = totalsJob(orders)
    const dir = join(base, 'checkpoints')
    await run(job.p, { checkpoint: { dir, intervalMs: 0 } })
    const expected = new Map<string, { total: number; n: number; last: number }>()
    for (const o of orders) {
      const e = expected.get(o.region) ?? { total: 0, n: 0, last: 0 }
      expected.set(o.region, { total: e.total + o.amount, n: e.n + 1, last: o.amount })
    }
    const totals = await readState(dir, { step: 'totals' })
    assert.equal(totals.length, expected.size)
    for (const row of totals) {
      assert.equal(row.value, expected.get(row.key as string)!.total)
      assert.equal(row.result, row.value, 'the result last emitted')
    }
    const last = await readState(dir, { step: 'last-order' })
    assert.deepEqual(
      new Map(last.map((r) => [r.key, r.value])),
      new Map([...expected].map(([k, e]) => [k, { orders: e.n, last: e.last }])),
    )
    const big = sink.collect<StateRow>()
    await run(pipeline('audit').from(source.state(dir, { step: 'totals' })).filter((r) => (r.value as number) >= 70).to(big))
    assert.deepEqual(big.values.map((r) => r.key).sort(), [...expected].filter(([, e]) => e.total >= 70).map(([k]) => k).sort())

    await assert.rejects(readState(dir, { step: 'nope' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_SNAPSHOT' && /totals/.test(e.hint ?? ''))
    await assert.rejects(writeSavepoint([], { pipeline: job.p, step: 'nope', dir: join(base, 'x') }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_STATE_BOOTSTRAP')
    await assert.rejects(writeSavepoint([{ key: 'a', value: 3 }], { pipeline: job.p, step: 'last-order', dir: join(base, 'y') }), /needs an object of states by name/)
    await assert.rejects(writeSavepoint([], { pipeline: job.p, step: 'totals', dir }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_SAVEPOINT_EXISTS')
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
})

test('readState of a savepoint taken from a running job gives the values its output last showed for every key', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sluice-state-api-'))
  try {
    const out = sink.collect<KeyedResult<number, number>>()
    const p = pipeline('running')
    p.from(source.generator({ make: (g) => ({ k: g.seq % 50, n: g.seq % 7 }), ratePerSecond: 5_000 }))
      .keyBy((r) => r.k)
      .aggregate(agg.sum((r: { n: number }) => r.n))
      .id('sums')
      .to(out)
    const job = start(p, { checkpoint: { dir: join(base, 'checkpoints'), intervalMs: 0 } })
    while (out.values.length < 200) await new Promise((r) => setTimeout(r, 20))
    const sp = join(base, 'savepoint')
    await job.savepoint(sp, { stop: true })
    await job.done
    const shown = new Map<number, number>()
    for (const r of out.records) if (r.kind === '+I' || r.kind === '+U') shown.set(r.value.key, r.value.value)
    const rows = await readState(sp, { step: 'sums' })
    assert.equal(rows.length, shown.size)
    for (const row of rows) {
      assert.equal(row.result, shown.get(row.key as number), `key ${String(row.key)}`)
      assert.equal(row.value, row.result)
    }
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
})
