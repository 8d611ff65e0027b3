import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contract, pipeline, run, sink, source, withContract } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { PrometheusExposition } from '../../src/observe/prometheus/exposition.ts'
import { MetricsRegistry } from '../../src/observe/metrics/registry.ts'
import { formatSummary } from '../../src/runtime/summary.ts'
import { build } from './fixtures/contract-sink.ts'

const module = new URL('./fixtures/contract-sink.ts', import.meta.url).href
const rows = [
  { user: 1, price: 10 },
  { user: 2, price: -1 },
  { price: 30 },
  { user: 4, price: 40 },
]

test('a sink with a contract writes the records that keep it; the others go to the dead letters with path, rule, subject and version', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-contract-sink-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const scores = contract({ name: 'scores', schema: { type: 'object', properties: { user: { type: 'integer' }, price: { type: 'integer', minimum: 0 } }, required: ['user', 'price'] } })
  const out = sink.collect<{ user: number; price: number }>()
  const p = pipeline('sink-contract', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
  const checked = withContract(out, scores)
  assert.equal(checked.contract, scores)
  assert.deepEqual(checked.describe().contract, scores.describe())
  p.from(source.collection(rows)).to(checked)
  const s = await run(p)
  assert.deepEqual(out.values, [rows[0], rows[3]])
  const row = s.steps.find((x) => x.step === 'sink-collect-1')!
  assert.equal(row.errors, 2)
  assert.deepEqual(row.violations, { '/price minimum': 1, '/user required': 1 })
  assert.match(formatSummary(s), /contract violations at 'sink-collect-1': \/price minimum 1, \/user required 1/)
  const letters = await readDeadLetters(join(dir, 'log'), 'sink-contract.dlq')
  assert.deepEqual(letters.map((l) => [l.step, l.reason, l.error.code, l.error.message]).sort(), [
    ['sink-collect-1', 'validation', 'SLUICE_CONTRACT_VIOLATION', "record breaks contract 'scores' (subject scores-value, version 1): field '/price' must be >= 0 (rule minimum)"],
    ['sink-collect-1', 'validation', 'SLUICE_CONTRACT_VIOLATION', "record breaks contract 'scores' (subject scores-value, version 1): field '/user' is required (rule required)"],
  ])
  assert.deepEqual(letters.find((l) => l.error.message.includes('minimum'))!.record, rows[1])
})

test("under onError 'fail' a sink's contract stops the job before the write, naming the step, field and rule", async () => {
  const out = sink.collect<unknown>()
  const p = pipeline('sink-contract-fail')
  p.from(source.collection(rows)).to(withContract(out, contract({ name: 'scores', schema: { type: 'object', properties: { price: { type: 'integer', minimum: 0 } } } })))
  await assert.rejects(run(p), /field '\/price' must be >= 0 \(rule minimum\)/)
  assert.deepEqual(out.values, [])
})

test('at parallelism 2 the violations of every subtask are counted per rule in the run summary (a view of the metrics registry)', async () => {
  const { pipeline: p, errors } = build()
  const summary = await run(p, { parallelism: 2, module })
  assert.equal(summary.status, 'finished')
  const row = summary.steps.find((x) => x.step === 'scores-out')!
  assert.deepEqual(row.violations, { '/price minimum': 8, '/user required': 8 })
  assert.equal(errors.values.length, 16)
  assert.ok(errors.values.every((e) => e.step === 'scores-out'))
})

test('the Prometheus exposition publishes violations per step and rule', async () => {
  const r = new MetricsRegistry({ pipeline: 'p' })
  const m = r.step('out', 'sink-parquet', 1)
  m.violations = { '/price minimum': 3 }
  const text = await new PrometheusExposition().render(r.snapshot())
  assert.match(text, /^sluice_contract_violations_total\{pipeline="p",step="out",kind="sink-parquet",subtask="1",rule="\/price minimum"\} 3$/m)
})
