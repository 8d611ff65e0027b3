import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, run, sink, source } from '../../src/index.ts'
import { deadLetter, redriveLine, MAX_LETTER_RECORD_BYTES, type DeadLetterInput } from '../../src/dlq/record.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { SluiceError } from '../../src/core/errors.ts'

const base: Omit<DeadLetterInput, 'record' | 'raw'> = { pipeline: 'p', step: 's', reason: 'parse', error: new Error('bad'), position: 'f:1', attempts: 1, time: 1, eventTime: undefined, includeStack: false }

test('a raw record is kept byte for byte: text when valid UTF-8, base64 when not; redrive gives the same bytes', () => {
  const text = deadLetter({ ...base, record: '{"a":"ü\uFFFD"}\r', raw: true })
  assert.deepEqual([text.record, text.recordFormat, 'recordTruncated' in text], ['{"a":"ü\uFFFD"}\r', 'raw', false])
  assert.ok(redriveLine(text)!.equals(Buffer.from('{"a":"ü\uFFFD"}\r')))
  const bytes = Buffer.from([0x7b, 0xff, 0xc3, 0x28, 0x00, 0x7d])
  const b64 = deadLetter({ ...base, record: bytes, raw: true })
  assert.deepEqual([b64.record, b64.recordFormat], [bytes.toString('base64'), 'base64'])
  assert.ok(redriveLine(b64)!.equals(bytes))
  // A letter travels as JSON: the bytes survive the round trip.
  assert.ok(redriveLine(JSON.parse(JSON.stringify(b64)))!.equals(bytes))
  // Bytes that came through a structured clone (a worker thread) are a plain Uint8Array.
  assert.ok(redriveLine(deadLetter({ ...base, record: new Uint8Array(bytes), raw: true }))!.equals(bytes))
})

test('a record over the letter limit is cut with a flag and its original size; it is not redriven', () => {
  const big = 'é'.repeat(MAX_LETTER_RECORD_BYTES) // 2 bytes each
  const d = deadLetter({ ...base, record: big, raw: true })
  assert.equal(d.recordFormat, 'raw')
  assert.equal(d.recordTruncated, true)
  assert.equal(d.recordBytes, 2 * MAX_LETTER_RECORD_BYTES)
  assert.equal((d.record as string).length, MAX_LETTER_RECORD_BYTES / 2)
  assert.equal(redriveLine(d), undefined)
  const reported = deadLetter({ ...base, error: Object.assign(new SluiceError('SLUICE_RECORD_TOO_LARGE', 'too large'), { recordBytes: 99 }), record: 'x'.repeat(10), raw: true })
  assert.deepEqual([reported.recordTruncated, reported.recordBytes, reported.error.code], [true, 99, 'SLUICE_RECORD_TOO_LARGE'])
  const json = deadLetter({ ...base, reason: 'user-function', record: { s: 'x'.repeat(MAX_LETTER_RECORD_BYTES) }, raw: false })
  assert.deepEqual([json.recordFormat, json.recordTruncated, json.recordBytes], ['text', true, MAX_LETTER_RECORD_BYTES + 8])
  const huge = deadLetter({ ...base, error: new Error('m'.repeat(100_000)), record: 'x', raw: true })
  assert.ok(huge.error.message.length < 9000)
})

test('a malformed line larger than the log takes in one record still becomes a letter, and the job goes on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-big-'))
  try {
    const input = join(dir, 'in.jsonl')
    const bigLine = `{"broken": "${'z'.repeat(10 * 1024 * 1024)}`
    await writeFile(input, `{"n":1}\n${bigLine}\n{"n":2}\n`)
    const out = sink.collect<{ n: number }>()
    const p = pipeline('big', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
    p.from(source.jsonl<{ n: number }>(input)).to(out)
    const s = await run(p)
    assert.equal(s.errors, 1)
    assert.deepEqual(out.values, [{ n: 1 }, { n: 2 }])
    const [letter] = await readDeadLetters(join(dir, 'log'), 'big.dlq')
    assert.equal(letter.recordTruncated, true)
    assert.equal(letter.recordBytes, Buffer.byteLength(bigLine))
    assert.equal(letter.error.code, 'SLUICE_BAD_JSON')
    assert.ok(bigLine.startsWith(letter.record as string))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
