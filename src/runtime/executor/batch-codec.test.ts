import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Batch } from '../../core/batch.ts'
import { decodeBatch, encodeBatch } from './batch-codec.ts'
import { KeyedPartial } from '../../operators/aggregate/combiner.ts'
import { isPartial } from '../../operators/aggregate/partial.ts'
import { WindowPartial } from '../../operators/window/combiner.ts'

/** What a batch becomes across threads without the codec (postMessage clones it): the codec must give the same. */
const viaClone = (b: Batch): Batch => structuredClone(b)
const viaCodec = (b: Batch): Batch => decodeBatch(structuredClone(encodeBatch(b)))

const batchOf = (values: unknown[], extra: Partial<Batch> = {}): Batch => ({ values, times: values.map((_, i) => 1_700_000_000_000 + i), ...extra })

const bid = fc.record({
  type: fc.constant('bid'),
  auction: fc.integer(),
  bidder: fc.nat(),
  price: fc.double(),
  channel: fc.constantFrom('apple', 'google', 'channel-7'),
  url: fc.string({ unit: 'binary' }),
  dateTime: fc.integer({ min: 0, max: 2 ** 45 }),
  extra: fc.string(),
})

test('any batch comes back as a clone of it would', () => {
  const anything = fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBigInt: true })
  fc.assert(
    fc.property(fc.array(anything, { maxLength: 20 }), fc.boolean(), (values, keyed) => {
      const b = batchOf(values, keyed ? { keys: values.map((_, i) => (i % 3 === 0 ? `k${i}` : i)) } : {})
      assert.deepStrictEqual(viaCodec(b), viaClone(b))
    }),
    { numRuns: 300 },
  )
})

test('batches of records of one shape come back exactly, with keys, kinds and positions', () => {
  fc.assert(
    fc.property(fc.array(bid, { minLength: 0, maxLength: 60 }), fc.constantFrom<'num' | 'str'>('num', 'str'), (values, keyKind) => {
      const b = batchOf(values, {
        keys: values.map((v) => (keyKind === 'num' ? v.auction : v.channel)),
        kinds: values.map((_, i) => (i % 4) as 0 | 1 | 2 | 3),
        pos: values.map((_, i) => `f.jsonl:${i + 1}`),
      })
      assert.deepStrictEqual(viaCodec(b), viaClone(b))
    }),
    { numRuns: 200 },
  )
})

test('nested rows, mixed columns and special numbers come back exactly', () => {
  const row = fc.record({
    key: fc.oneof(fc.integer(), fc.string()),
    value: fc.record({ category: fc.integer(), final: fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 1.5, 2 ** 60) }),
    start: fc.integer(),
    maybe: fc.option(fc.string(), { nil: undefined }),
    flag: fc.boolean(),
  })
  fc.assert(fc.property(fc.array(row, { maxLength: 40 }), (values) => assert.deepStrictEqual(viaCodec(batchOf(values)), viaClone(batchOf(values)))))
  const zeros = batchOf([-0, -0, -0, -0, -0])
  assert.ok(Object.is(viaCodec(zeros).values[2], -0))
  const same = batchOf(Array.from({ length: 10 }, () => ({ a: 'x', b: 7 })))
  assert.deepStrictEqual(viaCodec(same), viaClone(same))
})

test('odd shapes are cloned as they are: class instances, keys in another order, __proto__ and index keys', () => {
  class Point {
    x = 1
    y = 2
  }
  const cases: unknown[][] = [
    Array.from({ length: 8 }, () => new Point()),
    Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? { a: i, b: i } : { b: i, a: i })),
    Array.from({ length: 8 }, (_, i) => ({ a: i, b: i, ...(i === 5 ? { c: 1 } : {}) })),
    Array.from({ length: 8 }, (_, i) => JSON.parse(`{"__proto__": ${i}, "a": 1}`) as unknown),
    Array.from({ length: 8 }, (_, i) => ({ 1: i, a: i })),
    Array.from({ length: 8 }, (_, i) => Object.assign(Object.create(null) as object, { a: i })),
    Array.from({ length: 8 }, (_, i) => ({ when: new Date(i), list: [i, i] })),
  ]
  for (const values of cases) assert.deepStrictEqual(viaCodec(batchOf(values)), viaClone(batchOf(values)))
})

test("a combiner's partials travel as columns and come back as a clone of them would (plain objects of their fields)", () => {
  const windows = Array.from({ length: 20 }, (_, i) => {
    const p = new WindowPartial(1000 + (i % 3), 2000 * i, 2000 * i + 2000, i * 2, 5_000 + i, true)
    p.n = i + 1
    return p
  })
  const keyed = Array.from({ length: 20 }, (_, i) => new KeyedPartial(`k${i}`, { sum: i * 1.5, n: i }))
  for (const values of [windows, keyed]) {
    const w = encodeBatch(batchOf(values, { keys: values.map((v) => v.key) }))
    assert.equal(w.values.k, 'o')
    const back = viaCodec(batchOf(values, { keys: values.map((v) => v.key) }))
    assert.deepStrictEqual(back, viaClone(batchOf(values, { keys: values.map((v) => v.key) })))
    assert.ok(back.values.every((v) => isPartial(v)))
  }
  // Mixed with records (a combiner passing some on), they go as they are.
  const mixed = [...windows.slice(0, 5), ...Array.from({ length: 5 }, (_, i) => ({ auction: i }))]
  assert.equal(encodeBatch(batchOf(mixed)).values.k, 'raw')
  assert.deepStrictEqual(viaCodec(batchOf(mixed)), viaClone(batchOf(mixed)))
})

test('records of one shape travel as columns, not as objects', () => {
  const values = Array.from({ length: 100 }, (_, i) => ({ auction: i, price: i * 1.5, channel: `c${i % 3}`, type: 'bid' }))
  const w = encodeBatch(batchOf(values, { keys: values.map((v) => v.auction) }))
  assert.equal(w.values.k, 'o')
  if (w.values.k !== 'o') return
  assert.deepEqual(w.values.keys, ['auction', 'price', 'channel', 'type'])
  assert.deepEqual(w.values.cols.map((c) => c.k), ['n', 'n', 's', 'c'])
  assert.equal(w.keys?.k, 'n')
})

test('numbers decode exactly, -0 included (integers are rebuilt as small integers, as a source makes them)', () => {
  const values = Array.from({ length: 50 }, (_, i) => ({ auction: 1000 + i, price: i * 1.5, at: 1_767_225_600_000 + i, n: i - 25 }))
  const w = encodeBatch(batchOf(values))
  if (w.values.k !== 'o') return assert.fail('expected columns')
  assert.deepEqual(w.values.cols.map((c) => c.k), ['n', 'n', 'n', 'n'])
  const back = decodeBatch(structuredClone(w)).values as typeof values
  assert.deepEqual(back, values)
  // -0 is not an integer column (an Int32Array would turn it into 0).
  const z = [0, -0, 1, 2, 3].map((x) => ({ x }))
  assert.ok(Object.is((viaCodec(batchOf(z)).values[1] as { x: number }).x, -0))
})

test('a batch keeps its ingestion time across threads', () => {
  assert.equal(viaCodec(batchOf([1, 2, 3, 4, 5], { ingestedAt: 1_700_000_000_123 })).ingestedAt, 1_700_000_000_123)
  assert.equal('ingestedAt' in viaCodec(batchOf([1, 2])), false)
})

test('per record trace contexts cross threads with their batch', () => {
  const b = { values: [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], times: [1, 2, 3, 4], trace: 'tp-a', traces: [undefined, 'tp-b', undefined, undefined] }
  const back = decodeBatch(structuredClone(encodeBatch(b)))
  assert.deepEqual(back.traces, b.traces)
  assert.equal(back.trace, 'tp-a')
  assert.equal(decodeBatch(structuredClone(encodeBatch({ values: [1], times: [1] }))).traces, undefined)
})
