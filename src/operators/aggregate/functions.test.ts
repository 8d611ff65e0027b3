import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { agg } from './functions.ts'
import type { AggregateFunction } from './aggregate-function.ts'

interface Rec {
  id: number
  g: string
  x: number
}

const rec: fc.Arbitrary<Rec> = fc.record({ id: fc.nat(1e6), g: fc.constantFrom('a', 'b', 'c', 'd'), x: fc.integer({ min: -1000, max: 1000 }) }).map((r) => ({ ...r }))
const recs = fc.array(rec, { maxLength: 40 })

function addAll<A, R>(f: AggregateFunction<Rec, A, R>, xs: readonly Rec[]): A {
  let acc = f.create()
  for (const x of xs) acc = f.add(acc, x)
  return acc
}

const result = <A, R>(f: AggregateFunction<Rec, A, R>, xs: readonly Rec[]): R => f.result(addAll(f, xs))

/** Simple references over the whole list, written without the aggregate code. */
const ref = {
  count: (xs: Rec[]) => xs.length,
  sum: (xs: Rec[]) => xs.reduce((a, r) => a + r.x, 0),
  min: (xs: Rec[]) => (xs.length === 0 ? null : Math.min(...xs.map((r) => r.x))),
  max: (xs: Rec[]) => (xs.length === 0 ? null : Math.max(...xs.map((r) => r.x))),
  avg: (xs: Rec[]) => (xs.length === 0 ? null : xs.reduce((a, r) => a + r.x, 0) / xs.length),
  first: (xs: Rec[]) => (xs.length === 0 ? null : xs[0].id),
  last: (xs: Rec[]) => (xs.length === 0 ? null : xs[xs.length - 1].id),
  countDistinct: (xs: Rec[]) => new Set(xs.map((r) => r.g)).size,
  // Stable sort: ties keep arrival order.
  topN: (n: number, xs: Rec[]) => xs.map((r, i) => [r, i] as const).sort((a, b) => b[0].x - a[0].x || a[1] - b[1]).slice(0, n).map(([r]) => r),
  reduce: (xs: Rec[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => ({ id: a.id + b.id, g: a.g, x: a.x + b.x }))),
}

// Integer inputs keep sums and means exact, so results compare with deepEqual.
const orderInsensitive: [string, () => AggregateFunction<Rec, any, unknown>, (xs: Rec[]) => unknown][] = [
  ['count', () => agg.count<Rec>(), ref.count],
  ['sum', () => agg.sum<Rec>((r) => r.x), ref.sum],
  ['min', () => agg.min<Rec>((r) => r.x), ref.min],
  ['max', () => agg.max<Rec>((r) => r.x), ref.max],
  ['min retractable', () => agg.min<Rec>((r) => r.x, { retractable: true }), ref.min],
  ['max retractable', () => agg.max<Rec>((r) => r.x, { retractable: true }), ref.max],
  ['avg', () => agg.avg<Rec>((r) => r.x), ref.avg],
  ['countDistinct', () => agg.countDistinct<Rec>((r) => r.g), ref.countDistinct],
  ['fields', () => agg.fields({ n: agg.count<Rec>(), s: agg.sum<Rec>((r) => r.x), hi: agg.max<Rec>((r) => r.x, { retractable: true }) }), (xs) => ({ n: ref.count(xs), s: ref.sum(xs), hi: ref.max(xs) })],
]

test('each built-in aggregate equals a simple reference over the same records', () => {
  fc.assert(
    fc.property(recs, (xs) => {
      for (const [name, make, reference] of orderInsensitive) assert.deepEqual(result(make(), xs), reference(xs), name)
      assert.equal(result(agg.first<Rec, number>((r) => r.id), xs), ref.first(xs))
      assert.equal(result(agg.last<Rec, number>((r) => r.id), xs), ref.last(xs))
      assert.deepEqual(result(agg.first<Rec>(), xs), xs.length === 0 ? null : xs[0])
      assert.deepEqual(result(agg.last<Rec>(), xs), xs.length === 0 ? null : xs[xs.length - 1])
      for (const n of [1, 3, 10]) {
        assert.deepEqual(result(agg.topN<Rec>(n, (r) => r.x), xs), ref.topN(n, xs), `topN(${n})`)
        assert.deepEqual(result(agg.topN<Rec>(n, (r) => r.x, 'asc'), xs), ref.topN(n, xs.map((r) => ({ ...r, x: -r.x }))).map((r) => ({ ...r, x: -r.x })), `topN(${n}) asc`)
      }
      assert.deepEqual(result(agg.reduce<Rec>((a, b) => ({ id: a.id + b.id, g: a.g, x: a.x + b.x })), xs), ref.reduce(xs))
    }),
    { numRuns: 300 },
  )
})

test('merge law: merge(addAll(A), addAll(B)) gives the result of addAll(A then B)', () => {
  const orderSensitive: [string, () => AggregateFunction<Rec, any, unknown>][] = [
    ['first', () => agg.first<Rec, number>((r) => r.id)],
    ['last', () => agg.last<Rec, number>((r) => r.id)],
    ['topN', () => agg.topN<Rec>(3, (r) => r.x)],
    ['topN asc', () => agg.topN<Rec>(4, (r) => r.x, 'asc')],
    ['reduce', () => agg.reduce<Rec>((a, b) => ({ id: a.id + b.id, g: a.g, x: a.x + b.x }))],
  ]
  fc.assert(
    fc.property(recs, recs, (as, bs) => {
      for (const [name, make] of [...orderInsensitive.map(([n, m]) => [n, m] as const), ...orderSensitive]) {
        const f = make()
        const merged = f.result(f.merge(addAll(f, as), addAll(f, bs)))
        assert.deepEqual(merged, result(make(), [...as, ...bs]), name)
      }
      // Order-insensitive ones also give the same result whichever side is merged into which.
      for (const [name, make] of orderInsensitive) {
        const f = make()
        assert.deepEqual(f.result(f.merge(addAll(f, bs), addAll(f, as))), result(make(), [...as, ...bs]), `${name} (swapped)`)
      }
    }),
    { numRuns: 300 },
  )
})

test('retract law: retract(add(acc, x), x) gives the result of acc', () => {
  const retractable = orderInsensitive.filter(([, make]) => make().retract !== undefined)
  assert.deepEqual(
    retractable.map(([n]) => n),
    ['count', 'sum', 'min retractable', 'max retractable', 'avg', 'countDistinct', 'fields'],
  )
  fc.assert(
    fc.property(recs, rec, (xs, x) => {
      for (const [name, make, reference] of retractable) {
        const f = make()
        const acc = f.retract!(f.add(addAll(f, xs), x), x)
        assert.deepEqual(f.result(acc), reference(xs), name)
      }
    }),
    { numRuns: 300 },
  )
})

test('retracting every record in any order brings min/max/countDistinct back to empty', () => {
  fc.assert(
    fc.property(
      recs.chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }))),
      ([xs, order]) => {
        const mn = agg.min<Rec>((r) => r.x, { retractable: true })
        const cd = agg.countDistinct<Rec>((r) => r.g)
        let a = addAll(mn, xs)
        let c = addAll(cd, xs)
        const left = [...xs]
        for (const r of order) {
          a = mn.retract!(a, r)
          c = cd.retract!(c, r)
          left.splice(left.indexOf(r), 1)
          assert.equal(mn.result(a), ref.min(left))
          assert.equal(cd.result(c), ref.countDistinct(left))
        }
      },
    ),
  )
})

test('only aggregates that can take a record back declare retract', () => {
  assert.equal(agg.min<Rec>((r) => r.x).retract, undefined)
  assert.equal(agg.first<Rec>().retract, undefined)
  assert.equal(agg.topN<Rec>(2, (r) => r.x).retract, undefined)
  assert.equal(agg.reduce<Rec>((a) => a).retract, undefined)
  assert.equal(agg.fields({ n: agg.count<Rec>(), m: agg.max<Rec>((r) => r.x) }).retract, undefined)
  assert.throws(() => agg.topN(0, () => 0), (e: Error & { code?: string }) => e.code === 'SLUICE_BAD_OPTION')
})

test('a composite-key countDistinct counts tuples by value', () => {
  const f = agg.countDistinct<{ k: [string, number] }>((r) => r.k)
  let acc = f.create()
  for (const k of [['a', 1], ['a', 1], ['a', 2], ['b', 1]] as [string, number][]) acc = f.add(acc, { k })
  assert.equal(f.result(acc), 3)
})
