import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { contract, expect, loadContract, pipeline, run, sink, source, withContract, type ErrorRecord } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url))
const lines = [
  { auction: 1, bidder: 10, price: 100, channel: 'Google', dateTime: 1000 },
  { auction: 2, bidder: 11, price: -5, channel: 'Google', dateTime: 2000 },
  { auction: 3, bidder: 12, price: 300, channel: 'Yahoo', dateTime: 3000 },
  { auction: 4, price: 400, channel: 'Apple', dateTime: 4000 },
  { auction: 5, bidder: 13, price: 500, channel: 'Apple', dateTime: 5000, url: 'ftp://x' },
  { auction: '6', bidder: 14, price: 600, channel: 'Apple', dateTime: 6000 },
  { auction: 7, bidder: 15, price: 700, channel: 'Baidu', dateTime: 7000, url: 'https://x' },
]

async function input(t: { after(fn: () => Promise<void>): void }): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-contract-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'bids.jsonl')
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
  return { dir, file }
}

test('a contract file: records that break it go to the dead letters with path, rule, subject and version', async (t) => {
  const { dir, file } = await input(t)
  const bids = loadContract<{ auction: number; price: number }>(fixture('bids.contract.yaml'))
  assert.equal(bids.owner, 'auctions')
  assert.deepEqual(bids.personal, ['bidder'])
  assert.deepEqual(bids.expectations, [{ kind: 'unique', field: 'dateTime', severity: 'warn' }])
  const out = sink.collect<number>()
  const p = pipeline('bids-file', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
  p.from(withContract(source.jsonl(file), bids)).map((b) => b.auction).to(out)
  const s = await run(p)
  assert.deepEqual(out.values, [1, 7])
  assert.equal(s.errors, 5)
  const letters = (await readDeadLetters(join(dir, 'log'), 'bids-file.dlq')).sort((a, b) => String(a.position).localeCompare(String(b.position)))
  assert.deepEqual(letters.map((l) => [l.reason, l.error.code, l.position, l.error.message]), [
    ['validation', 'SLUICE_CONTRACT_VIOLATION', `${file}:2`, "record breaks contract 'bids' (subject bids-value, version 2): field '/price' must be in [1, 100000000] (rule inRange)"],
    ['validation', 'SLUICE_CONTRACT_VIOLATION', `${file}:3`, "record breaks contract 'bids' (subject bids-value, version 2): field '/channel' must be one of 4 allowed values (rule inSet)"],
    ['validation', 'SLUICE_CONTRACT_VIOLATION', `${file}:4`, "record breaks contract 'bids' (subject bids-value, version 2): field '/bidder' is required (rule required)"],
    ['validation', 'SLUICE_CONTRACT_VIOLATION', `${file}:5`, `record breaks contract 'bids' (subject bids-value, version 2): field '/url' must match pattern "^https?://" (rule pattern)`],
    ['validation', 'SLUICE_CONTRACT_VIOLATION', `${file}:6`, "record breaks contract 'bids' (subject bids-value, version 2): field '/auction' must be integer (rule type)"],
  ])
  // the record is kept whole for redrive; the message holds no record contents
  assert.deepEqual(letters[0].record, lines[1])
  assert.deepEqual(s.steps.find((x) => x.step === 'source-jsonl-1')!.violations, { '/price inRange': 1, '/channel inSet': 1, '/bidder required': 1, '/url pattern': 1, '/auction type': 1 })
})

test('zod, JSON Schema and Avro contracts give the record type and agree on the same records', async (t) => {
  const { file } = await input(t)
  const zodBids = contract({ name: 'bids', schema: z.object({ auction: z.number().int(), bidder: z.number().int(), price: z.number().int().min(1), channel: z.string(), dateTime: z.number().int(), url: z.string().regex(/^https?:\/\//).optional() }) })
  const jsonBids = contract({
    name: 'bids',
    schema: { type: 'object', properties: { auction: { type: 'integer' }, bidder: { type: 'integer' }, price: { type: 'integer', minimum: 1 }, channel: { type: 'string' }, dateTime: { type: 'integer' }, url: { type: 'string', pattern: '^https?://' } }, required: ['auction', 'bidder', 'price', 'channel', 'dateTime'] },
  })
  const avroBids = contract({
    name: 'bids',
    schema: { type: 'record', name: 'Bid', fields: [{ name: 'auction', type: 'long' }, { name: 'bidder', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string' }, { name: 'dateTime', type: 'long' }, { name: 'url', type: ['null', 'string'], default: null }] },
    rules: [{ field: 'price', rule: 'inRange', min: 1 }, { field: 'url', rule: 'pattern', pattern: '^https?://' }],
  })
  const results: number[][] = []
  for (const c of [zodBids, jsonBids] as const) {
    const out = sink.collect<number>()
    const p = pipeline('typed', { onError: 'error-output' })
    // b is typed from the schema: a wrong field name would not compile
    p.from(withContract(source.jsonl(file), c)).map((b) => b.auction + b.price).to(out)
    const errors = sink.collect<ErrorRecord>()
    p.errors().to(errors)
    await run(p)
    results.push(out.values)
    assert.deepEqual(errors.values.map((e) => e.position), [`${file}:2`, `${file}:4`, `${file}:5`, `${file}:6`])
  }
  const out = sink.collect<string>()
  const p = pipeline('typed-avro', { onError: 'skip' })
  p.from(withContract(source.jsonl(file), avroBids)).map((b) => `${b.auction}:${b.url ?? '-'}`).to(out)
  await run(p)
  // Avro's url is a union with null: a record without it reads as null
  assert.deepEqual(out.values, ['1:-', '3:-', '7:https://x'])
  assert.deepEqual(results, [[101, 303, 707], [101, 303, 707]])
})

test("under onError 'fail' a violation stops the job naming the step, position, field and rule", async (t) => {
  const { file } = await input(t)
  const p = pipeline('strict')
  p.from(withContract(source.jsonl(file), contract({ name: 'bids', schema: { type: 'object', properties: { price: { type: 'integer', minimum: 0 } } } }))).to(sink.blackhole())
  await assert.rejects(run(p), (e: Error) => {
    assert.match(e.message, new RegExp(`at ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2`))
    assert.match(e.message, /field '\/price' must be >= 0 \(rule minimum\)/)
    return true
  })
})

test("an expectation with severity 'drop' sends the record to the dead letters as a validation failure naming the expectation", async (t) => {
  const { dir } = await input(t)
  const out = sink.collect<number>()
  const p = pipeline('bids-drop', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
  p.from(source.collection(lines)).expect([expect.inRange('price', { min: 0 }, 'drop')]).map((b) => b.auction as number).to(out)
  const s = await run(p)
  assert.equal(out.values.length, lines.length - 1)
  assert.equal(s.errors, 1)
  const letters = await readDeadLetters(join(dir, 'log'), 'bids-drop.dlq')
  assert.deepEqual(letters.map((l) => [l.step, l.reason, l.error.code, l.error.message]), [['expect-1', 'validation', 'SLUICE_EXPECTATION_FAILED', "expectation 'price:inRange' failed: the record is dropped (step 'expect-1')"]])
  assert.deepEqual(letters[0].record, lines[1])
})
