import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { ManualClock } from '../../core/clock.ts'
import { keyGroupOf } from '../../core/key.ts'
import { stateBackendConformance } from '../conformance.ts'
import { HeapStateBackend } from '../heap/heap-backend.ts'
import { DurableStateBackend } from './durable-backend.ts'

stateBackendConformance('durable', (opts) => new DurableStateBackend(opts))
// A cache far smaller than the state: every path through eviction, store reads and write-back.
stateBackendConformance('durable, 50-cell cache', (opts) => new DurableStateBackend({ ...opts, cacheEntries: 50 }))
// A cache bounded by bytes: a few cells at a time.
stateBackendConformance('durable, 2 KB cache', (opts) => new DurableStateBackend({ ...opts, cacheBytes: 2048 }))

const open: { close(): void }[] = []
after(() => open.forEach((b) => b.close()))
function durable(opts: ConstructorParameters<typeof DurableStateBackend>[0] = {}): DurableStateBackend {
  const b = new DurableStateBackend(opts)
  open.push(b)
  return b
}

test('snapshots move between the heap and the durable backend unchanged', () => {
  const c = new ManualClock(0)
  const heap = new HeapStateBackend({ clock: c })
  heap.value<{ n: number }>('v').set('a', { n: 1 })
  heap.map<string, number>({ name: 'm', ttl: { ttl: 100 } }).set('a', 'f', 2)
  heap.list<string>('l').namespace(7).add(3, 'x')
  heap.aggregating('s', { create: () => 0, add: (a: number, v: number) => a + v, result: (a: number) => a }).add(true, 5)
  const snap = heap.snapshot()
  const d = durable({ clock: c, cacheEntries: 2 })
  d.restore(snap)
  assert.deepEqual(d.snapshot(), snap)
  const back = new HeapStateBackend({ clock: c })
  back.restore(d.snapshot())
  assert.deepEqual(back.snapshot(), snap)
})

test('TTL cleanup frees disk: the store shrinks as expired entries are removed', () => {
  const c = new ManualClock(0)
  const d = durable({ clock: c, cacheEntries: 100, incrementalCleanup: false })
  const v = d.value<string>({ name: 'v', ttl: { ttl: '1s' } })
  for (let i = 0; i < 20_000; i++) v.set(i, 'x'.repeat(100))
  d.flush()
  const full = d.stats()
  assert.equal(full.entries, 20_000)
  assert.ok(full.bytes !== undefined && full.bytes > 2_000_000, `the store holds the values (${full.bytes} bytes)`)
  c.advance(1000)
  let removed = 0
  for (let i = 0; i < 100 && d.stats().entries > 0; i++) removed += d.cleanup(c.now(), 1000).removed
  assert.equal(removed, 20_000)
  const empty = d.stats()
  assert.equal(empty.entries, 0)
  assert.ok(empty.bytes! < full.bytes! / 10, `pages were freed (${full.bytes} -> ${empty.bytes} bytes)`)
})

test('hot keys stay in the cache: state far larger than the cache is read back whole', () => {
  const d = durable({ cacheEntries: 1000 })
  const l = d.list<number>('l')
  for (let i = 0; i < 30_000; i++) l.add(i % 5000, i)
  const s = d.stats()
  assert.equal(s.entries, 5000)
  assert.ok(s.cached! <= 1000)
  for (let k = 0; k < 5000; k++) assert.deepEqual(l.get(k), [k, k + 5000, k + 10_000, k + 15_000, k + 20_000, k + 25_000])
})

test('the cache is bounded by the stored bytes of its cells too: large values, few cells held', () => {
  const d = durable({ cacheBytes: 20_000 })
  const v = d.value<string>('v')
  const big = (k: number) => `${k}:`.padEnd(1000, 'x')
  for (let k = 0; k < 2000; k++) v.set(k, big(k))
  // New cells count their state's recent mean size until written: about 20 cells of 1 KB, not the 100,000 by count.
  assert.ok(d.stats().cached! <= 40, `cached ${d.stats().cached}`)
  for (let k = 0; k < 2000; k++) assert.equal(v.get(k), big(k))
  assert.ok(d.stats().cached! <= 40, `cached ${d.stats().cached}`)
  // Small values: many cells fit in the same bytes.
  const n = d.value<number>('n')
  for (let k = 0; k < 2000; k++) n.set(k, k)
  for (let k = 0; k < 2000; k++) assert.equal(n.get(k), k)
  assert.ok(d.stats().cached! > 100, `cached ${d.stats().cached}`)
})

test('cells of the v8 codec count the bytes of their value, not of the buffer they are encoded in', () => {
  const d = durable({ cacheBytes: 20_000 })
  const v = d.value<{ n: number }>({ name: 'v', codec: 'v8' })
  // About 10 bytes each: hundreds fit in 20 KB, new or written (a cell counted as its 4 KB encoding buffer left 5).
  for (let k = 0; k < 4000; k++) v.set(k, { n: k })
  assert.ok(d.stats().cached! > 500, `cached ${d.stats().cached} after writes`)
  d.flush()
  for (let k = 0; k < 100; k++) v.set(4000 + k, { n: k })
  assert.ok(d.stats().cached! > 500, `cached ${d.stats().cached} after a flush`)
  for (let k = 0; k < 4000; k++) assert.deepEqual(v.get(k), { n: k })
})

test('a store in a given folder starts empty and keeps its folder on close', async () => {
  const { mkdtempSync, existsSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-test-'))
  try {
    const a = new DurableStateBackend({ path: dir })
    a.value<number>('v').set('k', 1)
    a.flush()
    a.close()
    const b = new DurableStateBackend({ path: dir })
    assert.equal(b.value('v').get('k'), undefined)
    b.close()
    assert.ok(existsSync(dir))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a store restored as soon as it opened takes large write transactions after it', () => {
  // The store is cleared when it opens and when a restore starts: clearing the empty store twice used to
  // corrupt its free pages, and a later flush failed with MDB_BAD_TXN (or the process crashed).
  // Entries of some size in a few transactions of 10,000: smaller ones did not meet the corruption.
  const d = durable()
  d.restore(d.snapshot())
  const v = d.value<string>('v')
  const ids = new Set<number>()
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 10_000; i++) {
      const id = (i * 7919 + round * 104_729) % 200_000
      v.set(id, 'x'.repeat(60))
      ids.add(id)
    }
    d.flush()
  }
  assert.equal(d.stats().entries, ids.size)
  assert.equal(v.get(7919), 'x'.repeat(60))
})

test('bulkLoad: entries written by a restore go to the store in batches, not the cache, and read, change and delete as any others', () => {
  const d = durable({ cacheEntries: 10 })
  const v = d.value<{ n: number }>({ name: 'v', codec: 'v8' })
  const l = d.list<string>('l')
  d.bulkLoad(() => {
    for (let i = 0; i < 25_000; i++) v.set(i, { n: i })
    l.add('k', 'first')
    assert.equal(d.stats().cached, 0, 'no entry went through the cache')
    // Read, changed and deleted while loading: the batch is written first, then the cache's path is taken.
    assert.deepEqual(v.get(7), { n: 7 })
    v.set(7, { n: -7 })
    v.delete(8)
    v.delete(24_999)
    assert.equal(v.get(8), undefined)
    l.add('k', 'second')
    v.set(30_000, { n: 30_000 })
    let seen = 0
    d.forEachValue<{ n: number }>('v', () => seen++)
    assert.equal(seen, 25_000 - 2 + 1, 'an iteration during the load sees every entry')
  })
  assert.deepEqual(v.get(7), { n: -7 })
  assert.equal(v.get(8), undefined)
  assert.deepEqual(v.get(12_345), { n: 12_345 })
  assert.deepEqual(v.get(30_000), { n: 30_000 })
  assert.deepEqual(l.get('k'), ['first', 'second'])
  assert.equal(d.sizes()['value:v'], 25_000 - 2 + 1)
  // The same state as the cache's path gives.
  const e = durable({ cacheEntries: 10 })
  const w = e.value<{ n: number }>({ name: 'v', codec: 'v8' })
  for (let i = 0; i < 25_000; i++) w.set(i, { n: i })
  w.set(7, { n: -7 })
  w.delete(8)
  w.delete(24_999)
  w.set(30_000, { n: 30_000 })
  e.list<string>('l').add('k', 'first')
  e.list<string>('l').add('k', 'second')
  assert.deepEqual(d.snapshot(), e.snapshot())
})

test('bulkLoad: a failing restore still writes what it loaded, and the backend takes writes through the cache after', () => {
  const d = durable({ cacheEntries: 10 })
  const v = d.value<number>('v')
  assert.throws(() =>
    d.bulkLoad(() => {
      v.set('a', 1)
      throw new Error('restore failed')
    }),
  )
  assert.equal(v.get('a'), 1)
  v.set('b', 2)
  assert.equal(d.stats().cached, 2)
})

test('snapshotReads: reads the cache misses come from the store and are not cached; cached changes and removals are what they read', () => {
  const d = durable({ cacheEntries: 100 })
  const v = d.value<{ n: number }>({ name: 'v', codec: 'v8' })
  for (let i = 0; i < 1000; i++) v.set(i, { n: i })
  // The last keys written are the ones cached: one changed since it was written, one removed.
  v.set(999, { n: -1 })
  v.delete(998)
  const hot = [...Array(50).keys()].map((k) => 950 + k)
  for (const k of hot) v.get(k)
  const before = d.stats().cached
  const read = d.snapshotReads(() => {
    assert.deepEqual(v.get(0), { n: 0 })
    assert.equal(d.stats().cached, before, 'a read the cache missed is not cached')
    const got = [...Array(1000).keys()].map((k) => v.get(k)?.n)
    assert.equal(d.stats().cached, before, 'the reads neither cached nor evicted a cell')
    // Writes inside still take the cache's path.
    v.set(5000, { n: 5000 })
    return got
  })
  assert.deepEqual(read, [...Array(1000).keys()].map((k) => (k === 999 ? -1 : k === 998 ? undefined : k)))
  assert.deepEqual(v.get(5000), { n: 5000 })
  for (const k of hot.slice(0, -2)) assert.deepEqual(v.get(k), { n: k })
  assert.equal(d.snapshotReads(() => 7), 7)
})

test('changed cells: what was written or removed since the last call, whether the cache still holds it or gave it up', () => {
  const d = durable({ cacheEntries: 8 })
  const v = d.value<number>('v')
  const l = d.list<string>('l')
  const changes = (): string[] => {
    const out: string[] = []
    const read = d.changedCells()
    for (let kg = 0; kg < d.keyGroups; kg++) {
      read(kg, (sid, [id, ns, value], removed) => {
        assert.equal(kg, keyGroupOf(id, d.keyGroups))
        out.push(`${sid} ${String(ns)} ${String(id)} ${removed ? 'removed' : JSON.stringify(value)}`)
      })
    }
    return out.sort()
  }
  for (let k = 0; k < 100; k++) v.set(k, k)
  d.flush()
  d.trackChanges(true)
  // Changed ones the cache gives up at once (100 cells through a cache of 8), removed ones (one stored, one
  // written and removed before the store had it), in place and in another namespace.
  for (let k = 0; k < 20; k++) v.set(k, k + 1000)
  v.delete(50)
  v.set(200, 1)
  v.delete(200)
  l.namespace(3).add('x', 'a')
  for (let k = 20; k < 100; k++) v.get(k)
  const first = changes()
  assert.equal(first.length, 23)
  assert.ok(first.includes('value:v  0 1000') && first.includes('value:v  19 1019'))
  assert.ok(first.includes('value:v  50 removed') && first.includes('value:v  200 removed'))
  assert.ok(first.includes('list:l 3 x ["a"]'))
  assert.deepEqual(changes(), [], 'nothing changed since')
  v.set(1, 7)
  assert.deepEqual(changes(), ['value:v  1 7'])
  // Intervals log the cells the cache gives up into two stores in turn: each call reads only its own interval's.
  for (let round = 0; round < 3; round++) {
    for (let k = 0; k < 20; k++) v.set(k, k + 2000 + round)
    for (let k = 20; k < 100; k++) v.get(k)
    const got = changes()
    assert.equal(got.length, 20)
    assert.ok(got.includes(`value:v  19 ${2019 + round}`))
  }
  assert.deepEqual(changes(), [])
  // Listed by one call and removed before the store had it (a delta does not write the cache out): still a change.
  v.set(300, 1)
  assert.deepEqual(changes(), ['value:v  300 1'])
  v.delete(300)
  assert.deepEqual(changes(), ['value:v  300 removed'])
  d.trackChanges(false)
  assert.throws(() => changes(), /not tracked/)
})
