import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeadLetterWriter } from '../../src/dlq/writer.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { deadLetter, type DeadLetter } from '../../src/dlq/record.ts'
import { addRange, commitsPath, type Ranges } from '../../src/dlq/commits.ts'

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function letter(n: number, step = 'parse'): DeadLetter {
  return deadLetter({ pipeline: 'p', step, reason: 'user-function', error: new Error(`bad ${n}`), position: `in.jsonl:${n}`, attempts: 1, time: 1000 + n, eventTime: n, record: { n }, raw: false, includeStack: false })
}

const ns = (ls: { record: unknown }[]) => ls.map((l) => (l.record as { n: number }).n)
const open = (dir: string, checkpointing = false) => DeadLetterWriter.open({ dir, topic: 't.dlq', checkpointing, log: { fsync: 'never' } })

test('without checkpoints letters are appended after the batch and visible at once', async () => {
  await withDir(async (dir) => {
    const w = await open(dir)
    const pending: Promise<void>[] = []
    w.onPending = (p) => void pending.push(p)
    w.add(letter(1))
    w.add(letter(2))
    assert.equal(w.buffered, 2)
    await Promise.resolve()
    assert.equal(pending.length, 1, 'one append for everything added in the same batch')
    await Promise.all(pending)
    assert.equal(w.appended, 2)
    w.add(letter(3))
    await w.close()
    const got = await readDeadLetters(dir, 't.dlq')
    assert.deepEqual(ns(got), [1, 2, 3])
    assert.deepEqual(got.map((l) => l.offset), [0, 1, 2])
    assert.deepEqual(got[0], { offset: 0, pipeline: 'p', step: 'parse', reason: 'user-function', error: { message: 'bad 1', name: 'Error' }, position: 'in.jsonl:1', attempts: 1, time: 1001, eventTime: 1, record: { n: 1 }, recordFormat: 'json' })
  })
})

test('two-phase commit: pre-committed letters are invisible until commit; commit is idempotent', async () => {
  await withDir(async (dir) => {
    const w = await open(dir, true)
    w.add(letter(1))
    w.add(letter(2))
    await Promise.resolve()
    assert.equal(w.appended, 0, 'nothing is appended before the barrier')
    const h1 = await w.preCommit(1)
    w.add(letter(3))
    const h2 = await w.preCommit(2)
    const range = (checkpointId: number, from: number, to: number) => ({ checkpointId, txn: { topic: 't.dlq', partition: 0, from, to } })
    assert.deepEqual(h1, { txns: [range(1, 0, 2)] })
    assert.deepEqual(h2, { txns: [range(1, 0, 2), range(2, 2, 3)] }, 'the handle carries the checkpoint that did not complete')
    await w.commit(1, h1)
    await w.commit(1, h1)
    await w.close(false)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [1, 2], 'checkpoint 2 did not complete')

    const w2 = await open(dir, true)
    await w2.recover([{ subtask: 0, checkpointId: 2, handle: h2 }])
    await w2.close(false)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [1, 2, 3], 'recover commits the restored handle')
  })
})

test('recover discards letters of checkpoints after the restored one, even when checkpoint ids repeat', async () => {
  await withDir(async (dir) => {
    const w = await open(dir, true)
    w.add(letter(1))
    const h1 = await w.preCommit(1)
    await w.commit(1, h1)
    w.add(letter(2))
    await w.preCommit(2) // crash: checkpoint 2 never completes
    await w.close(false)

    const w2 = await open(dir, true)
    await w2.recover([{ subtask: 0, checkpointId: 1, handle: h1 }])
    w2.add(letter(22)) // the replay produces it again
    const h2 = await w2.preCommit(2)
    assert.deepEqual(h2, { txns: [{ checkpointId: 2, txn: { topic: 't.dlq', partition: 0, from: 2, to: 3 } }] })
    await w2.commit(2, h2)
    await w2.close(false)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [1, 22])
  })
})

test('a fresh checkpointed run aborts letters a crashed run left pending; close at the end of input commits', async () => {
  await withDir(async (dir) => {
    const w = await open(dir, true)
    w.add(letter(1))
    await w.preCommit(1)
    await w.close(false)
    const w2 = await open(dir, true)
    await w2.recover!([])
    w2.add(letter(2))
    await w2.close(true)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [2])
  })
})

test('a missing commit state over checkpointed letters is refused, never recreated empty: nothing lost, nothing repeated', async () => {
  await withDir(async (dir) => {
    const w = await open(dir, true)
    w.add(letter(1))
    w.add(letter(2))
    const h1 = await w.preCommit(1)
    await w.commit(1, h1)
    w.add(letter(3))
    const h2 = await w.preCommit(2)
    await w.close(false)
    await copyFile(commitsPath(dir, 't.dlq'), join(dir, 'saved.json'))
    await rm(commitsPath(dir, 't.dlq'))

    await assert.rejects(open(dir, true), (e: Error & { code?: string }) => e.code === 'SLUICE_DLQ_CORRUPT' && /commit state .* is missing/.test(e.message))
    // The refused open changed nothing: put the file back, and the restart goes on as if it never happened.
    await copyFile(join(dir, 'saved.json'), commitsPath(dir, 't.dlq'))
    const w2 = await open(dir, true)
    await w2.recover([{ subtask: 0, checkpointId: 2, handle: h2 }])
    w2.add(letter(4))
    await w2.close(true)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [1, 2, 3, 4])
  })
})

test('a missing commit state over letters written without checkpoints is recreated, and every letter stays visible once', async () => {
  await withDir(async (dir) => {
    const w = await open(dir)
    w.add(letter(1))
    await w.close()
    await rm(commitsPath(dir, 't.dlq'))
    const w2 = await open(dir)
    w2.add(letter(2))
    await w2.close()
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [1, 2])
  })
})

test('under checkpoints, letters past spillBytes are appended staged: invisible until their checkpoint commits, aborted if it never does', async () => {
  await withDir(async (dir) => {
    const w = await DeadLetterWriter.open({ dir, topic: 't.dlq', checkpointing: true, log: { fsync: 'never' }, spillBytes: 2000 })
    const pending: Promise<void>[] = []
    w.onPending = (p) => void pending.push(p)
    for (let n = 0; n < 50; n++) w.add(letter(n))
    await Promise.all(pending)
    assert.ok(pending.length > 0 && w.appended > 0, 'letters were spilled before the barrier')
    assert.ok(w.buffered < 50)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq').catch(() => [])), [], 'spilled letters are not visible')
    const h1 = await w.preCommit(1)
    assert.deepEqual(h1, { txns: [{ checkpointId: 1, txn: { topic: 't.dlq', partition: 0, from: 0, to: 50 } }] }, 'the transaction spans the spilled letters')
    await w.commit(1, h1)
    assert.equal(await w.committedAfter(0), 50)
    assert.equal(await w.committedAfter(1), 0)
    for (let n = 50; n < 100; n++) w.add(letter(n))
    await Promise.all(pending)
    await w.close(false) // a crash: checkpoint 2 never comes
    const w2 = await open(dir, true)
    await w2.recover([{ subtask: 0, checkpointId: 1, handle: h1 }], 1)
    w2.add(letter(100))
    await w2.close(true)
    assert.deepEqual(ns(await readDeadLetters(dir, 't.dlq')), [...Array.from({ length: 50 }, (_, n) => n), 100], 'each letter once; the spilled ones of the lost checkpoint are aborted')
  })
})

test('raw lines keep their bytes; records JSON cannot hold are kept as text', () => {
  const raw = deadLetter({ pipeline: 'p', step: 's', reason: 'parse', error: new Error('not valid JSON'), position: 'f:2', attempts: 1, time: 5, eventTime: undefined, record: '{oops ü', raw: true, includeStack: false })
  assert.equal(raw.record, '{oops ü')
  assert.equal(raw.recordFormat, 'raw')
  assert.equal('eventTime' in raw, false)
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  const t = deadLetter({ pipeline: 'p', step: 's', reason: 'user-function', error: 'boom', position: undefined, attempts: 2, time: 5, eventTime: 7, record: cyclic, raw: false, includeStack: false })
  assert.equal(t.recordFormat, 'text')
  assert.equal(t.position, null)
  assert.deepEqual(t.error, { message: 'boom', name: 'string' })
})

test('ranges merge and stay disjoint', () => {
  const r: Ranges = []
  assert.equal(addRange(r, 0, 2), true)
  assert.equal(addRange(r, 5, 7), true)
  assert.equal(addRange(r, 0, 2), false)
  assert.equal(addRange(r, 2, 5), true)
  assert.deepEqual(r, [[0, 7]])
  assert.equal(addRange(r, 3, 3), false)
})
