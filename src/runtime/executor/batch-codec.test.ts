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

test('number and boolean properties go straight into the numbers; a property of another kind in some record goes through its own column', () => {
  const values = Array.from({ length: 30 }, (_, i) => ({ id: i, open: i % 2 === 0, done: false, at: 1_767_225_600_000, name: `n${i}` }))
  const w = encodeBatch(batchOf(values))
  if (w.values.k !== 'o') return assert.fail('expected columns')
  assert.deepEqual(w.values.cols.map((c) => c.k), ['n', 'b', 'c', 'c', 's'])
  assert.deepStrictEqual(viaCodec(batchOf(values)), viaClone(batchOf(values)))
  // The first record says number, a later one holds a string, a boolean or undefined: still exact.
  for (const odd of ['7', true, undefined, null, -0, NaN]) {
    const mixed = values.map((v, i) => (i === 17 ? { ...v, id: odd } : v))
    assert.deepStrictEqual(viaCodec(batchOf(mixed)), viaClone(batchOf(mixed)))
    const flags = values.map((v, i) => (i === 3 ? { ...v, open: odd } : v))
    assert.deepStrictEqual(viaCodec(batchOf(flags)), viaClone(batchOf(flags)))
  }
})

test('a run of zeros with both signs is no constant, in a column or a property', () => {
  for (const zs of [[0, 0, -0, 0, 0], [-0, -0, 0, -0], [0, 0, 0, 0, -0]]) {
    const back = viaCodec(batchOf(zs)).values
    zs.forEach((z, i) => assert.ok(Object.is(back[i], z), `column ${JSON.stringify(zs.map((x) => (Object.is(x, -0) ? '-0' : x)))} at ${i}`))
    const rows = viaCodec(batchOf(zs.map((x) => ({ x, y: 1 })))).values as { x: number }[]
    zs.forEach((z, i) => assert.ok(Object.is(rows[i].x, z), `property at ${i}`))
  }
})

test('booleans travel as a column; shapes seen with ever other kinds of properties still come back exactly', () => {
  const flags = Array.from({ length: 12 }, (_, i) => i % 3 === 0)
  const w = encodeBatch(batchOf(flags))
  assert.equal(w.values.k, 'b')
  assert.deepStrictEqual(viaCodec(batchOf(flags)), viaClone(batchOf(flags)))
  assert.deepEqual(encodeBatch(batchOf([true, true, true, true])).values, { k: 'c', v: true })
  // More combinations of kinds than are compiled for one shape: the rest go the plain way, as exactly.
  const kinds: unknown[] = [1, 'a', true, null]
  for (let c = 0; c < 64; c++) {
    const values = Array.from({ length: 6 }, (_, i) => ({ a: kinds[c & 3], b: kinds[(c >> 2) & 3], c: kinds[(c >> 4) & 3], d: i }))
    assert.deepStrictEqual(viaCodec(batchOf(values)), viaClone(batchOf(values)))
  }
})

test('records of one shape go as columns however few, so that they keep the hidden class of records made by a literal', () => {
  for (const n of [1, 2, 3]) {
    const values = Array.from({ length: n }, (_, i) => ({ category: 10 + i, final: 1.5 * i, at: { s: 'x', t: i } }))
    const w = encodeBatch(batchOf(values))
    assert.equal(w.values.k, 'o')
    if (w.values.k === 'o') assert.equal(w.values.cols[2].k, 'o')
    assert.deepStrictEqual(viaCodec(batchOf(values)), viaClone(batchOf(values)))
  }
  assert.equal(encodeBatch(batchOf([1, 2])).values.k, 'raw')
  assert.equal(encodeBatch(batchOf([])).values.k, 'raw')
})
