import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { ManualClock } from '../core/clock.ts'
import { SluiceError } from '../core/errors.ts'
import { keyId, subtaskOfKey } from '../core/key.ts'
import type { StateBackend, StateBackendOptions } from '../core/state-backend.ts'
import type { StateCodec } from '../core/state-codec.ts'
import { keyGroupRange } from './key-groups.ts'

/** Makes a backend for one test; the suite closes it. */
export type BackendFactory = (opts: StateBackendOptions) => StateBackend

const sum = { create: () => 0, add: (a: number, v: number) => a + v, result: (a: number) => a }
const avg = {
  create: () => ({ n: 0, total: 0 }),
  add: (a: { n: number; total: number }, v: number) => ({ n: a.n + 1, total: a.total + v }),
  result: (a: { n: number; total: number }) => a.total / a.n,
}

/**
 * Registers the tests every state backend must pass (node:test), against backends made by `make`.
 * @example stateBackendConformance('heap', (opts) => new HeapStateBackend(opts))
 */
export function stateBackendConformance(label: string, make: BackendFactory): void {
  const open: StateBackend[] = []
  const clock = () => new ManualClock(1_000)
  const backend = (opts: StateBackendOptions = {}): StateBackend => {
    const b = make(opts)
    open.push(b)
    return b
  }
  after(() => {
    for (const b of open) b.close()
  })

  describe(`state backend conformance: ${label}`, () => {
    test('value state: get, set, overwrite, delete, per key', () => {
      const b = backend()
      const v = b.value<{ n: number }>('v')
      assert.equal(v.get('a'), undefined)
      v.set('a', { n: 1 })
      v.set('b', { n: 2 })
      v.set(7, { n: 7 })
      v.set('a', { n: 3 })
      assert.deepEqual(v.get('a'), { n: 3 })
      assert.deepEqual(v.get('b'), { n: 2 })
      assert.deepEqual(v.get(7), { n: 7 })
      assert.equal(v.get('7'), undefined, 'number and string keys are different keys')
      v.delete('a')
      assert.equal(v.get('a'), undefined)
      assert.deepEqual(b.sizes(), { 'value:v': 2 })
      assert.equal(b.value('v'), v, 'the same handle for the same name')
    })

    test('map state: fields, entries, delete of the last field removes the key', () => {
      const b = backend()
      const m = b.map<string, number>('m')
      assert.equal(m.get('k', 'x'), undefined)
      assert.deepEqual([...m.entries('k')], [])
      m.set('k', 'x', 1)
      m.set('k', 'y', 2)
      m.set('j', 'x', 10)
      m.set('k', 'x', 3)
      assert.equal(m.get('k', 'x'), 3)
      assert.deepEqual(new Map(m.entries('k')), new Map([['x', 3], ['y', 2]]))
      m.delete('k', 'x')
      m.delete('k', 'nope')
      assert.deepEqual([...m.entries('k')], [['y', 2]])
      m.delete('k', 'y')
      assert.deepEqual([...m.entries('k')], [])
      assert.deepEqual(b.sizes(), { 'map:m': 1 })
      m.clear('j')
      assert.equal(m.get('j', 'x'), undefined)
      assert.deepEqual(b.sizes(), { 'map:m': 0 })
    })

    test('list state: add, set, clear; an empty list is no entry', () => {
      const b = backend()
      const l = b.list<number>('l')
      assert.deepEqual(l.get('k'), [])
      l.add('k', 1)
      l.add('k', 2)
      l.add('j', 9)
      assert.deepEqual(l.get('k'), [1, 2])
      l.set('k', [5, 6, 7])
      assert.deepEqual(l.get('k'), [5, 6, 7])
      l.set('k', [])
      assert.deepEqual(l.get('k'), [])
      assert.deepEqual(b.sizes(), { 'list:l': 1 })
      l.clear('j')
      assert.deepEqual(l.get('j'), [])
      assert.deepEqual(b.sizes(), { 'list:l': 0 })
    })

    test('aggregating state: add folds into the accumulator, get returns the result', () => {
      const b = backend()
      const s = b.aggregating('sum', sum)
      const a = b.aggregating('avg', avg)
      assert.equal(s.get('k'), undefined)
      for (const x of [1, 2, 3, 4]) {
        s.add('k', x)
        a.add('k', x)
      }
      s.add('j', 100)
      assert.equal(s.get('k'), 10)
      assert.equal(a.get('k'), 2.5)
      assert.equal(s.get('j'), 100)
      s.clear('k')
      assert.equal(s.get('k'), undefined)
      assert.deepEqual(b.sizes(), { 'aggregating:sum': 1, 'aggregating:avg': 1 })
    })

    test('states of the same name and different kinds, and different names, do not meet', () => {
      const b = backend()
      b.value<number>('x').set('k', 1)
      b.list<number>('x').add('k', 2)
      b.value<number>('y').set('k', 3)
      assert.equal(b.value<number>('x').get('k'), 1)
      assert.deepEqual(b.list<number>('x').get('k'), [2])
      assert.equal(b.value<number>('y').get('k'), 3)
    })

    test('keys() of a state, tuple key identities included', () => {
      const b = backend()
      const v = b.value<number>('v')
      const ids = ['a', 1, true, keyId(['u', 2])]
      ids.forEach((id, i) => v.set(id, i))
      assert.deepEqual(new Set(b.keys('v')), new Set(ids))
      assert.deepEqual([...b.keys('missing')], [])
    })

    test('namespaces: the same key in different namespaces holds different state', () => {
      const b = backend()
      const pane = b.list<string>('pane')
      const w1 = pane.namespace(1000)
      const w2 = pane.namespace(2000)
      const named = pane.namespace('session-a')
      pane.add('k', 'default')
      w1.add('k', 'one')
      w1.add('k', 'one-b')
      w2.add('k', 'two')
      w2.add('j', 'two-j')
      named.add('k', 'named')
      assert.deepEqual(pane.get('k'), ['default'])
      assert.deepEqual(w1.get('k'), ['one', 'one-b'])
      assert.deepEqual(w2.get('k'), ['two'])
      assert.deepEqual(named.get('k'), ['named'])
      assert.deepEqual(pane.namespace('').get('k'), ['default'], "'' is the default namespace")
      assert.deepEqual(new Set(b.keys('pane', 2000)), new Set(['k', 'j']))
      assert.deepEqual(new Set(b.keys('pane', 1000)), new Set(['k']))
      assert.deepEqual(new Set(b.keys('pane')), new Set(['k', 'j']))
      assert.deepEqual(b.sizes(), { 'list:pane': 5 })
      w2.clear('k')
      w2.clear('j')
      assert.deepEqual(w2.get('k'), [])
      assert.deepEqual(w1.get('k'), ['one', 'one-b'])
      assert.deepEqual(b.sizes(), { 'list:pane': 3 })
      const v = b.value<number>('v').namespace(5)
      v.set('k', 1)
      assert.equal(b.value<number>('v').get('k'), undefined)
      assert.equal(v.get('k'), 1)
      const m = b.map<string, number>('m').namespace('w')
      m.set('k', 'f', 1)
      assert.equal(b.map<string, number>('m').get('k', 'f'), undefined)
      assert.deepEqual([...m.entries('k')], [['f', 1]])
      const s = b.aggregating('s', sum).namespace(9)
      s.add('k', 4)
      assert.equal(s.get('k'), 4)
      assert.equal(b.aggregating('s', sum).get('k'), undefined)
    })

    test("TTL 'on-write': an entry expires ttl after its last write; reads do not extend it", () => {
      const c = clock()
      const b = backend({ clock: c })
      const v = b.value<number>({ name: 'v', ttl: { ttl: '100ms', update: 'on-write', visibility: 'never-return-expired' } })
      v.set('k', 1)
      c.advance(60)
      assert.equal(v.get('k'), 1)
      c.advance(39)
      assert.equal(v.get('k'), 1)
      c.advance(1)
      assert.equal(v.get('k'), undefined, 'expired at exactly ttl after the write')
      v.set('k', 2)
      c.advance(99)
      v.set('k', 3)
      c.advance(99)
      assert.equal(v.get('k'), 3, 'a write restarts the clock')
    })

    test("TTL 'on-read-and-write': a read restarts the clock", () => {
      const c = clock()
      const b = backend({ clock: c })
      const v = b.value<number>({ name: 'v', ttl: { ttl: 100, update: 'on-read-and-write' } })
      const l = b.list<number>({ name: 'l', ttl: { ttl: 100, update: 'on-read-and-write' } })
      const m = b.map<string, number>({ name: 'm', ttl: { ttl: 100, update: 'on-read-and-write' } })
      const s = b.aggregating({ name: 's', ttl: { ttl: 100, update: 'on-read-and-write' } }, sum)
      v.set('k', 1)
      l.add('k', 1)
      m.set('k', 'f', 1)
      s.add('k', 1)
      for (let i = 0; i < 5; i++) {
        c.advance(90)
        assert.equal(v.get('k'), 1)
        assert.deepEqual(l.get('k'), [1])
        assert.equal(m.get('k', 'f'), 1)
        assert.equal(s.get('k'), 1)
      }
      c.advance(100)
      assert.equal(v.get('k'), undefined)
      assert.deepEqual(l.get('k'), [])
      assert.equal(m.get('k', 'f'), undefined)
      assert.equal(s.get('k'), undefined)
    })

    test('TTL of list elements and map fields is per element and per field', () => {
      const c = clock()
      const b = backend({ clock: c })
      const l = b.list<string>({ name: 'l', ttl: { ttl: 100 } })
      const m = b.map<string, number>({ name: 'm', ttl: { ttl: 100 } })
      l.add('k', 'old')
      m.set('k', 'old', 1)
      c.advance(50)
      l.add('k', 'new')
      m.set('k', 'new', 2)
      c.advance(50)
      assert.deepEqual(l.get('k'), ['new'])
      assert.deepEqual([...m.entries('k')], [['new', 2]])
      assert.equal(m.get('k', 'old'), undefined)
      c.advance(50)
      assert.deepEqual(l.get('k'), [])
      assert.deepEqual([...m.entries('k')], [])
      assert.deepEqual(b.sizes(), { 'list:l': 0, 'map:m': 0 })
    })

    test("TTL in event time: counted on the watermark; entries written before the first one start their time at it", () => {
      const c = clock()
      let wm = -Infinity
      const b = backend({ clock: c, watermark: () => wm })
      const v = b.value<number>({ name: 'v', ttl: { ttl: 100, time: 'event' } })
      const l = b.list<number>({ name: 'l', ttl: { ttl: 100, time: 'event' } })
      const m = b.map<string, number>({ name: 'm', ttl: { ttl: 100, time: 'event' } })
      v.set('early', 0)
      l.add('early', 0)
      m.set('early', 'f', 0)
      c.advance(1_000_000)
      assert.equal(v.get('early'), 0, 'processing time does not count')
      wm = 1_000
      v.set('k', 1)
      l.add('k', 1)
      m.set('k', 'f', 1)
      b.cleanup(c.now())
      wm = 1_099
      assert.equal(v.get('k'), 1)
      assert.equal(v.get('early'), 0)
      wm = 1_100
      assert.equal(v.get('k'), undefined, 'expired once the watermark reached the write plus ttl')
      assert.deepEqual(l.get('k'), [])
      assert.equal(m.get('k', 'f'), undefined)
      assert.equal(v.get('early'), undefined, 'an entry written before the first watermark: its time started at the sweep')
      assert.deepEqual(l.get('early'), [])
      assert.equal(m.get('early', 'f'), undefined)
      assert.throws(() => b.value({ name: 'x', ttl: { ttl: 1, time: 'wall' as never } }), /ttl.time must be 'processing' or 'event'/)
      assert.throws(() => b.value({ name: 'v', ttl: { ttl: 100 } }), /registered twice/)
    })

    test('TTL cleanup frees memory: sizes() falls after the TTL passes, in budgeted steps', () => {
      const c = clock()
      const b = backend({ clock: c, incrementalCleanup: false })
      const ttl = { ttl: '1m' }
      const v = b.value<string>({ name: 'session', ttl })
      const l = b.list<number>({ name: 'events', ttl })
      const keep = b.value<number>('forever')
      for (let i = 0; i < 1000; i++) {
        v.set(i, 'x'.repeat(50))
        l.add(i, i)
        l.add(i, i + 1)
        if (i % 10 === 0) keep.set(i, i)
      }
      c.advance(30_000)
      for (let i = 0; i < 100; i++) v.set(i, 'fresh')
      assert.deepEqual(b.sizes(), { 'value:session': 1000, 'list:events': 1000, 'value:forever': 100 })
      const before = b.stats()
      assert.equal(before.entries, 2100)
      assert.equal(before.entriesWithoutTtl, 100)
      assert.equal(before.states['value:session'].ttlMs, 60_000)
      c.advance(30_000)
      assert.deepEqual(b.cleanup(c.now(), 0), { visited: 0, removed: 0 })
      const first = b.cleanup(c.now(), 500)
      assert.equal(first.visited, 500)
      let total = first.removed
      for (let i = 0; i < 10; i++) total += b.cleanup(c.now(), 500).removed
      assert.equal(total, 1900)
      assert.deepEqual(b.sizes(), { 'value:session': 100, 'list:events': 0, 'value:forever': 100 })
      assert.equal(b.stats().entries, 200)
      c.advance(30_000)
      b.snapshot()
      assert.deepEqual(b.sizes(), { 'value:session': 0, 'list:events': 0, 'value:forever': 100 }, 'a snapshot removes all that expired')
    })

    test('incremental cleanup runs by itself as TTL state is written', () => {
      const c = clock()
      const b = backend({ clock: c, incrementalCleanup: { every: 10, budget: 40 } })
      const v = b.value<number>({ name: 'v', ttl: { ttl: 10 } })
      for (let i = 0; i < 1000; i++) v.set(`old-${i}`, i)
      c.advance(10)
      for (let i = 0; i < 1000; i++) v.set(`new-${i}`, i)
      assert.ok(b.sizes()['value:v'] < 1300, `old entries were removed while writing (${b.sizes()['value:v']} left)`)
    })

    test('expired entries are not in keys() nor in snapshots', () => {
      const c = clock()
      const b = backend({ clock: c, incrementalCleanup: false })
      const v = b.value<number>({ name: 'v', ttl: { ttl: 10 } })
      v.set('a', 1)
      c.advance(5)
      v.set('b', 2)
      c.advance(5)
      assert.deepEqual([...b.keys('v')], ['b'])
      const snap = b.snapshot()
      const entries = Object.values(snap.groups).flatMap((g) => g['value:v'] ?? [])
      assert.deepEqual(entries.map((e) => e[0]), ['b'])
    })

    test('a snapshot read by key group holds what the whole snapshot holds, and restores alike', () => {
      const c = clock()
      const b = backend({ clock: c })
      const v = b.value<{ n: number }>('v')
      const m = b.map<string, number>('m')
      const t = b.value<number>({ name: 't', ttl: { ttl: 100 } })
      for (let i = 0; i < 500; i++) {
        v.set(`k${i}`, { n: i })
        if (i % 3 === 0) m.namespace(i % 7).set(`k${i}`, 'f', i)
        if (i % 5 === 0) t.set(`k${i}`, i)
      }
      const whole = b.snapshot()
      const byGroup = b.snapshotByGroup()
      assert.deepEqual(JSON.parse(JSON.stringify(byGroup)), JSON.parse(JSON.stringify(whole)))
      const r = backend({ clock: c })
      r.restore(byGroup)
      const fromWhole = backend({ clock: c })
      fromWhole.restore(whole)
      assert.deepEqual(r.snapshot(), fromWhole.snapshot())
      assert.deepEqual(r.value('v').get('k42'), { n: 42 })
      assert.equal(r.map('m').namespace(3).get('k234', 'f'), 234)
    })

    test('snapshot and restore: a round trip of every kind, namespace and expiry', () => {
      const c = clock()
      const b = backend({ clock: c })
      b.value<{ a: number[] }>('v').set('k', { a: [1, 2] })
      b.map<string, string>('m').set(keyId(['t', 1]), 'f', 'x')
      b.list<number>('l').namespace(500).add('k', 5)
      b.aggregating('s', avg).add('k', 4)
      const t = b.value<number>({ name: 't', ttl: { ttl: 100 } })
      t.set('k', 1)
      const snap = b.snapshot()
      b.value<{ a: number[] }>('v').set('k', { a: [9] })
      assert.equal(snap.format, 'sluice-keyed-state/1')
      assert.equal(snap.keyGroups, b.keyGroups)
      assert.deepEqual(structuredClone(snap), snap, 'plain, structured-cloneable data')
      assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap, 'JSON-codec state is JSON data')

      const r = backend({ clock: c })
      r.value('v') // a handle taken before the restore keeps working after it
      r.restore(snap)
      assert.deepEqual(r.value('v').get('k'), { a: [1, 2] })
      assert.equal(r.map('m').get(keyId(['t', 1]), 'f'), 'x')
      assert.deepEqual(r.list('l').namespace(500).get('k'), [5])
      assert.equal(r.aggregating('s', avg).get('k'), 4)
      const again = backend({ clock: c })
      again.restore(r.snapshot())
      assert.deepEqual(again.snapshot(), r.snapshot(), 'a restored backend snapshots what it restored')
      const rt = r.value<number>({ name: 't', ttl: { ttl: 100 } })
      c.advance(99)
      assert.equal(rt.get('k'), 1)
      c.advance(1)
      assert.equal(rt.get('k'), undefined, 'the restored entry expires when the original would have')
      r.restore(snap)
      r.value<number>('v').set('extra', 1)
      r.restore(snap)
      assert.equal(r.value('v').get('extra'), undefined, 'restore replaces all state')
    })

    test('restore takes only the owned key groups: a different parallelism splits the state', () => {
      const b = backend()
      const v = b.value<number>('v')
      const l = b.list<string>('l').namespace(10)
      const keys: unknown[] = []
      for (let i = 0; i < 500; i++) keys.push(i % 3 === 0 ? `user-${i}` : i % 3 === 1 ? i : ['tuple', i])
      for (const k of keys) {
        v.set(keyId(k), 1)
        l.add(keyId(k), 'x')
      }
      const snap = b.snapshot()
      const seen = new Set<unknown>()
      for (let sub = 0; sub < 3; sub++) {
        const r = backend()
        r.restore(snap, keyGroupRange(sub, 3, r.keyGroups))
        const mine = new Set(keys.filter((k) => subtaskOfKey(k, 3, r.keyGroups) === sub).map(keyId))
        assert.deepEqual(new Set(r.keys('v')), mine, `subtask ${sub} holds exactly the keys routed to it`)
        assert.deepEqual(new Set(r.keys('l', 10)), mine)
        for (const id of mine) seen.add(id)
      }
      assert.equal(seen.size, keys.length)
      const one = backend()
      one.restore(snap, [0])
      assert.ok([...one.keys('v')].length < keys.length)
      assert.throws(() => backend({ keyGroups: 64 }).restore(snap), (e) => e instanceof SluiceError && e.code === 'SLUICE_STATE_KEY_GROUPS')
    })

    test('codecs: v8 keeps Map, Date and bigint through snapshots; json turns them into JSON', () => {
      const b = backend()
      const v8 = b.value<unknown>({ name: 'v8', codec: 'v8' })
      const json = b.value<unknown>({ name: 'json', codec: 'json' })
      const rich = { when: new Date(5), n: 12n, m: new Map([['a', 1]]), s: new Set([1]) }
      v8.set('k', rich)
      json.set('k', { when: new Date(5) })
      const r = backend()
      r.restore(b.snapshot())
      assert.deepEqual(r.value('v8').get('k'), rich)
      assert.deepEqual(r.value('json').get('k'), { when: new Date(5).toJSON() })
      const upper: StateCodec = {
        name: 'upper',
        encode: (x) => Buffer.from(JSON.stringify(x)),
        decode: (bytes) => JSON.parse(Buffer.from(bytes).toString(), (_k, x) => (typeof x === 'string' ? x.toUpperCase() : x)),
      }
      const custom = b.value<string>({ name: 'custom', codec: upper })
      custom.set('k', 'hello')
      const r2 = backend()
      r2.value({ name: 'custom', codec: upper })
      r2.restore(b.snapshot())
      assert.equal(r2.value('custom').get('k'), 'HELLO')
      const r3 = backend()
      assert.throws(() => r3.restore(b.snapshot()), (e) => e instanceof SluiceError && e.code === 'SLUICE_STATE_CODEC')
      assert.throws(() => b.value({ name: 'bad', codec: 'xml' as never }), (e) => e instanceof SluiceError)
    })

    test('descriptors: a conflicting second declaration and bad TTLs are SluiceErrors', () => {
      const b = backend()
      b.value({ name: 'v', ttl: { ttl: '1h' } })
      assert.doesNotThrow(() => b.value('v'))
      assert.doesNotThrow(() => b.value({ name: 'v', ttl: { ttl: 3_600_000 } }))
      assert.throws(() => b.value({ name: 'v', ttl: { ttl: '2h' } }), (e) => e instanceof SluiceError && e.code === 'SLUICE_STATE_CONFLICT')
      assert.throws(() => b.value({ name: 'w', ttl: { ttl: 0 } }), (e) => e instanceof SluiceError && e.code === 'SLUICE_BAD_DURATION')
      assert.throws(() => b.value({ name: 'w', ttl: { ttl: '1s', update: 'sometimes' as never } }), (e) => e instanceof SluiceError && e.code === 'SLUICE_STATE_TTL')
      assert.throws(() => b.restore({} as never), (e) => e instanceof SluiceError && e.code === 'SLUICE_STATE_SNAPSHOT')
    })

    test('large values: a 2 MB value and a list of 20,000 elements', () => {
      const b = backend()
      const big = 'x'.repeat(2 * 1024 * 1024)
      b.value<string>('big').set('k', big)
      const l = b.list<number>('l')
      for (let i = 0; i < 20_000; i++) l.add('k', i)
      for (let i = 0; i < 300; i++) b.value<number>('filler').set(i, i)
      assert.equal(b.value<string>('big').get('k')?.length, big.length)
      assert.equal(l.get('k').length, 20_000)
      assert.equal(l.get('k')[19_999], 19_999)
      const r = backend()
      r.restore(b.snapshot())
      assert.equal(r.value<string>('big').get('k'), big)
      assert.equal(r.list('l').get('k').length, 20_000)
    })

    test('many keys: 100,000 keys written, read back, counted and snapshotted', () => {
      const b = backend()
      const v = b.value<{ i: number }>('v')
      const n = 100_000
      for (let i = 0; i < n; i++) v.set(`key-${i}`, { i })
      let ok = 0
      for (let i = 0; i < n; i++) if (v.get(`key-${i}`)?.i === i) ok++
      assert.equal(ok, n)
      assert.equal(b.sizes()['value:v'], n)
      let count = 0
      for (const _ of b.keys('v')) count++
      assert.equal(count, n)
      const snap = b.snapshot()
      const r = backend()
      r.restore(snap)
      assert.equal(r.sizes()['value:v'], n)
      assert.deepEqual(r.value('v').get('key-77777'), { i: 77_777 })
    })
  })
}
