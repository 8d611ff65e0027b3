import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import { keyId } from '../../core/key.ts'
import { TimerQueue } from '../timers.ts'
import { DurableTimerQueue } from './durable-timers.ts'
import { DurableStateBackend } from './durable-backend.ts'
import { HeapStateBackend } from '../heap/heap-backend.ts'

const open: { close(): void }[] = []
after(() => open.forEach((q) => q.close()))
function durable(): DurableTimerQueue {
  const q = new DurableTimerQueue()
  open.push(q)
  return q
}

/** Keys of one time in a fixed order: the heap fires them as registered, the store by identity. */
const sorted = (keys: Map<unknown, unknown>) => [...keys].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0))

const key = fc.oneof(fc.constantFrom('a', 'b', '\u0000x', ''), fc.integer({ min: -3, max: 3 }), fc.tuple(fc.constantFrom('u', 'v'), fc.integer({ min: 0, max: 2 })), fc.constant(null), fc.constant(5n))
const op = fc.oneof(
  fc.record({ reg: fc.integer({ min: -20, max: 60 }), key }),
  fc.record({ del: fc.integer({ min: -20, max: 60 }), key }),
  fc.record({ poll: fc.oneof(fc.integer({ min: -30, max: 70 }), fc.constant(Infinity)) }),
  fc.record({ snap: fc.constant(true) }),
)

test('the durable timer queue fires what the heap queue fires, time by time, through any registrations, deletes and restores', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const heap = new TimerQueue()
      const disk = durable()
      try {
        for (const o of ops) {
          if ('reg' in o) {
            heap.register(o.reg, keyId(o.key), o.key)
            disk.register(o.reg, keyId(o.key), o.key)
          } else if ('del' in o) {
            heap.delete(o.del, keyId(o.key))
            disk.delete(o.del, keyId(o.key))
          } else if ('poll' in o) {
            for (;;) {
              const h = heap.pollUpTo(o.poll)
              const d = disk.pollUpTo(o.poll)
              assert.deepEqual(d === undefined ? undefined : [d.time, sorted(d.keys)], h === undefined ? undefined : [h.time, sorted(h.keys)])
              if (h === undefined) break
            }
          } else {
            // A restore from the other queue's snapshot: both formats are one.
            const hs = heap.snapshot()
            heap.restore(disk.snapshot())
            disk.restore(hs)
          }
        }
        const norm = (s: [number, [unknown, unknown][]][]) => s.filter(([, ks]) => ks.length > 0).map(([t, ks]) => [t, sorted(new Map(ks))]).sort((a, b) => (a[0] as number) - (b[0] as number))
        assert.deepEqual(norm(disk.snapshot()), norm(heap.snapshot()))
      } finally {
        disk.close()
      }
    }),
    { numRuns: 150 },
  )
})

test('many timers: written in batches, fired in order of time, and the store is empty afterwards', () => {
  const q = durable()
  for (let i = 0; i < 25_000; i++) q.register((i * 7919) % 5000, i % 3 === 0 ? `k${i}` : i)
  let n = 0
  let last = -Infinity
  for (let due = q.pollUpTo(2499); due !== undefined; due = q.pollUpTo(2499)) {
    assert.ok(due.time > last)
    last = due.time
    n += due.keys.size
  }
  assert.equal(n, 12_500)
  assert.equal(q.peek(), 2500)
  q.register(1, 'late')
  assert.deepEqual([...q.pollUpTo(1)!.keys], [['late', 'late']])
  while (q.pollUpTo(Infinity) !== undefined);
  assert.equal(q.pollUpTo(Infinity), undefined, 'an empty queue has nothing due, even at the end of time')
  assert.equal(q.peek(), Infinity)
})

test('each backend hands out named timer queues of its kind, closed with it', () => {
  const h = new HeapStateBackend()
  assert.ok(h.timers('event') instanceof TimerQueue)
  assert.equal(h.timers('event'), h.timers('event'))
  const d = new DurableStateBackend()
  const t = d.timers('left')
  assert.ok(t instanceof DurableTimerQueue)
  t.register(5, 'a', 'a')
  assert.notEqual(d.timers('right'), t)
  d.close()
})

test("a backend's timer store restored as soon as it opened takes large write batches after it", () => {
  // Its store is cleared when it opens and when a restore starts: clearing the empty store twice used to
  // corrupt its free pages, and a later batch of writes failed with MDB_BAD_TXN (or the process crashed).
  const d = new DurableStateBackend()
  try {
    const q = d.timers('t')
    q.restore([])
    for (let i = 0; i < 30_000; i++) q.register((i * 7919) % 200_000, i, ['k', i, 'x'.repeat(60)])
    assert.equal(q.snapshot().reduce((n, [, keys]) => n + keys.length, 0), 30_000)
  } finally {
    d.close()
  }
})
