import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import fc from 'fast-check'
import type { Batch } from '../../core/batch.ts'
import { decodeBatch, encodeBatch } from './batch-codec.ts'
import { RingReader, RingWriter } from './ring.ts'
import { Router } from './router.ts'
import type { Bundle, Item } from './protocol.ts'

const batchOf = (values: unknown[], extra: Partial<Batch> = {}): Batch => ({ values, times: values.map((_, i) => 1_700_000_000_000 + i), ...extra })

/** Through a ring and a clone of the message, as a worker receives it. */
function viaRing(b: Batch, w: RingWriter, r: RingReader): Batch {
  const out = decodeBatch(r.take(structuredClone(w.put(encodeBatch(b)))))
  w.endBundle()
  w.release(1)
  return out
}

const record = fc.record({
  auction: fc.integer(),
  price: fc.double(),
  channel: fc.constantFrom('apple', 'google', 'channel-7'),
  // Any UTF-16, lone surrogates included.
  url: fc.string({ unit: 'binary' }),
  extra: fc.string(),
  nested: fc.record({ a: fc.string({ unit: 'grapheme' }), b: fc.integer() }),
})

test('batches come back through a ring as a clone of them would, whatever their strings and numbers', () => {
  const w = new RingWriter(1 << 16)
  const r = new RingReader(w.buffer)
  const anything = fc.anything({ withDate: true, withTypedArray: true, withBigInt: true })
  fc.assert(
    fc.property(fc.oneof(fc.array(record, { maxLength: 80 }), fc.array(anything, { maxLength: 20 }), fc.array(fc.double(), { maxLength: 40 })), fc.boolean(), (values, keyed) => {
      const b = batchOf(values, keyed ? { keys: values.map((_, i) => (i % 2 === 0 ? `k${i}` : `ключ${i}`)), kinds: values.map((_, i) => (i % 4) as 0 | 1 | 2 | 3) } : {})
      assert.deepStrictEqual(viaRing(b, w, r), structuredClone(b))
    }),
    { numRuns: 300 },
  )
})

test('a full ring sends what does not fit in the message instead, and frees space as bundles are credited', () => {
  const w = new RingWriter(4096)
  const r = new RingReader(w.buffer)
  const big = batchOf(Array.from({ length: 100 }, (_, i) => ({ id: i, s: `text ${i} `.repeat(3) })))
  const puts = [w.put(encodeBatch(big)), w.put(encodeBatch(big))]
  w.endBundle()
  // The first batch's columns took most of the ring: the second's strings went in the message.
  assert.equal((puts[0].values as { cols: { k: string }[] }).cols[1].k, 'rs')
  assert.equal((puts[1].values as { cols: { k: string }[] }).cols[1].k, 's')
  for (const p of puts) assert.deepStrictEqual(decodeBatch(r.take(p)), big)
  const third = w.put(encodeBatch(big))
  assert.equal((third.values as { cols: { k: string }[] }).cols[1].k, 's', 'nothing freed before the credit')
  w.endBundle()
  w.release(1)
  // Many rounds, so that runs wrap around the end of the buffer.
  for (let i = 0; i < 50; i++) {
    const p = w.put(encodeBatch(big))
    w.endBundle()
    assert.deepStrictEqual(decodeBatch(r.take(structuredClone(p))), big)
    w.release(1)
  }
})

/** Two routers on one thread joined by a MessageChannel; what thread 1 receives is collected. */
function pair(): { a: Router; b: Router; got: Bundle[]; ports: MessagePort[] } {
  const ch = new MessageChannel()
  const got: Bundle[] = []
  const a = new Router(0, [undefined, ch.port1], () => {})
  const b = new Router(1, [ch.port2, undefined], (_from, x) => got.push(x))
  return { a, b, got, ports: [ch.port1, ch.port2] }
}

test('records, watermarks and barriers between threads arrive in order, the records through the ring', () => {
  const { a, b, got, ports } = pair()
  const bids = (from: number): Batch => batchOf(Array.from({ length: 50 }, (_, i) => ({ auction: from + i, channel: 'apple', extra: `x${i}` })))
  const sent: Item[] = []
  for (let round = 0; round < 30; round++) {
    const items: Item[] = [
      { t: 'data', v: 1, input: 0, ch: 0, batch: bids(round * 100) },
      { t: 'wm', v: 1, input: 0, ch: 0, wm: round },
      { t: 'data', v: 1, input: 0, ch: 0, batch: bids(round * 100 + 50) },
      { t: 'barrier', v: 1, input: 0, ch: 0, id: round },
    ]
    for (const it of items) a.send(1, it)
    sent.push(...items)
    a.flush()
    b.poll()
    // Thread 1 credits the bundle, which frees its bytes in the ring.
    b.giveCredit(0, 1)
    b.flush()
    a.poll()
  }
  assert.deepStrictEqual(
    got.flatMap((x) => x.items),
    sent,
  )
  assert.equal(a.hasCredit, true)
  assert.equal(receiveMessageOnPort(ports[1]), undefined)
  a.close()
  b.close()
})

test('a record that cannot be cloned goes to the error path; the rest of its batch arrives', () => {
  const { a, b, got } = pair()
  const bad: { v: number; rows: number[] }[] = []
  a.onUnsendable = (v, _input, _batch, rows) => bad.push({ v, rows })
  const values: unknown[] = Array.from({ length: 10 }, (_, i) => ({ n: i, s: `r${i}` }))
  values[3] = { n: 3, s: 'r3', f: () => 1 }
  a.send(1, { t: 'data', v: 2, input: 0, ch: 0, batch: batchOf(values) })
  a.flush()
  b.poll()
  assert.deepStrictEqual(bad, [{ v: 2, rows: [3] }])
  const arrived = got.flatMap((x) => x.items)
  assert.equal(arrived.length, 1)
  assert.deepStrictEqual((arrived[0] as { batch: Batch }).batch.values, values.filter((_, i) => i !== 3))
  a.close()
  b.close()
})
