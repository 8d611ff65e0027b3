import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { readDeadLetters } from '../../dlq/reader.ts'
import { deadLetter, type DeadLetter } from '../../dlq/record.ts'
import { DeadLetterWriter } from '../../dlq/writer.ts'
import type { Ack } from './protocol.ts'
import { DeadLetterCollector } from './dead-letter-collector.ts'

function letter(n: number): DeadLetter {
  return deadLetter({ pipeline: 'p', step: 'parse', reason: 'user-function', error: new Error(`bad ${n}`), position: `in.jsonl:${n}`, attempts: 1, time: 1000 + n, eventTime: n, record: { n }, raw: false, includeStack: false })
}

/** Runs `fn` on a collector over a fresh dead-letter log; returns the numbers of the letters committed. */
async function committed(threads: number, fn: (c: DeadLetterCollector, acks: Ack[]) => Promise<void>): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-collector-'))
  try {
    const w = await DeadLetterWriter.open({ dir, topic: 't.dlq', checkpointing: true, log: { fsync: 'never' } })
    const acks: Ack[] = []
    const c = new DeadLetterCollector(w, threads, (a) => acks.push(a))
    await c.recover([])
    await fn(c, acks)
    // A stopped run: what no checkpoint committed stays invisible.
    await w.close(false)
    return (await readDeadLetters(dir, 't.dlq')).map((l) => (l.record as { n: number }).n).sort((a, b) => a - b)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('p2: letters a thread sends after its marker belong to the next checkpoint, not to the one whose markers were awaited', async () => {
  const got = await committed(2, async (c) => {
    c.letters(0, [letter(1)])
    c.marker(0, 1, false)
    // Thread 0 is past barrier 1; thread 1 is not yet.
    c.letters(0, [letter(2)])
    c.letters(1, [letter(3)])
    c.marker(1, 1, false)
    // Both past barrier 1.
    c.letters(1, [letter(4)])
    await c.commitUpTo(1)
  })
  assert.deepEqual(got, [1, 3])
})

test('p1: letters held past the barrier and sent after the marker are not in its checkpoint', async () => {
  const got = await committed(1, async (c) => {
    c.letters(0, [letter(1)])
    c.marker(0, 1, false)
    c.letters(0, [letter(2)])
    await c.commitUpTo(1)
  })
  assert.deepEqual(got, [1])
})

test('letters sent while an earlier pre-commit is still being written wait for the next checkpoint', async () => {
  const got = await committed(2, async (c) => {
    c.letters(0, [letter(1)])
    c.marker(0, 1, false)
    c.marker(1, 1, false)
    c.letters(0, [letter(2)])
    c.marker(0, 2, false)
    c.letters(1, [letter(3)])
    c.marker(1, 2, false)
    c.letters(1, [letter(4)])
    await c.commitUpTo(2)
  })
  assert.deepEqual(got, [1, 2, 3])
})
