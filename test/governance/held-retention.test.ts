// Retention of the logs a running process holds open: a job's dead letters and the server's audit log are
// trimmed by the open log itself (retention plans skip a log another process holds).
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DeadLetterWriter } from '../../src/dlq/writer.ts'
import { scanDeadLetters } from '../../src/dlq/reader.ts'
import { deadLetter } from '../../src/dlq/record.ts'
import { AuditLog } from '../../src/server/audit.ts'
import { SluiceError } from '../../src/core/errors.ts'
import { pipeline, run, sink, source } from '../../src/index.ts'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)
const topicConfig = (dir: string, topic: string) => JSON.parse(readFileSync(join(dir, 'topics', topic, 'topic.json'), 'utf8')) as { retentionMs: number | null; retentionBytes: number | null }

test('a dead-letter log with a retention drops its old letters while the writer holds it open', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-retention-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let now = T0
  const w = await DeadLetterWriter.open({ dir, topic: 'orders.dlq', retention: { maxAge: '1d' }, log: { fsync: 'never', now: () => now, segmentBytes: 1024, retentionCheckMs: 3_600_000 } })
  const letter = (n: number, time: number) => deadLetter({ pipeline: 'orders', step: 'parse', reason: 'user-function', error: new Error('bad'), position: `in.jsonl:${n}`, attempts: 1, time, eventTime: undefined, record: { n, pad: 'x'.repeat(200) }, raw: false, includeStack: false })
  for (let n = 0; n < 20; n++) w.add(letter(n, T0 + n))
  await w.flush()
  for (let n = 20; n < 30; n++) w.add(letter(n, T0 + 3 * DAY + n))
  await w.flush()
  const c = topicConfig(dir, 'orders.dlq')
  assert.deepEqual([c.retentionMs, c.retentionBytes], [DAY, null])
  now = T0 + 3 * DAY + 1000
  assert.ok((await w.openLog.enforceRetention()) > 0, 'old segments go')
  const left: number[] = []
  for await (const s of scanDeadLetters(w.openLog, 'orders.dlq')) left.push((s.letter.record as { n: number }).n)
  assert.ok(left.length < 30 && left.length >= 10, `some old letters went, the new ones stayed: ${left.join(',')}`)
  assert.deepEqual(left.slice(-10), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
  assert.ok(left.every((n, i) => i === 0 || n === left[i - 1] + 1), 'what is left is contiguous')
  await w.close()
})

test("a pipeline's deadLetter.retention is set on its dead-letter topic; a bad one is refused", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-retention-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'in.jsonl'), '{"n":1}\nnot json\n')
  const p = pipeline('kept', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'dlq'), retention: { maxAge: '7d', maxBytes: 1_000_000 } } })
  p.from(source.jsonl(join(dir, 'in.jsonl'))).to(sink.jsonl(join(dir, 'out.jsonl')))
  assert.equal((await run(p)).errors, 1)
  const c = topicConfig(join(dir, 'dlq'), 'kept.dlq')
  assert.deepEqual([c.retentionMs, c.retentionBytes], [7 * DAY, 1_000_000])
  assert.throws(() => pipeline('bad', { onError: 'dead-letter', deadLetter: { dir, retention: { maxAge: 'soon' } } }), (e: unknown) => e instanceof SluiceError && e.domain === 'user' && /deadLetter\.retention\.maxAge/.test(e.message))
  assert.throws(() => pipeline('bad', { onError: 'dead-letter', deadLetter: { dir, retention: { maxBytes: -1 } } }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
})

test("the server's audit log keeps its entries for the age it is given, a setting kept with the topic", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-retention-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const a = await AuditLog.open(dir, { maxAge: '30d' })
  await a.append({ at: T0, who: null, role: null, method: 'POST', path: '/api/x', status: 401, outcome: 'refused' })
  await a.close()
  assert.equal(topicConfig(dir, 'audit').retentionMs, 30 * DAY)
  const again = await AuditLog.open(dir)
  assert.equal((await again.read()).length, 1)
  await again.close()
  assert.equal(topicConfig(dir, 'audit').retentionMs, 30 * DAY, 'opened without one, it keeps the setting')
})
