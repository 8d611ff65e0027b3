import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deserialize, serialize } from 'node:v8'
import fc from 'fast-check'
import { ByteReader, ByteWriter } from './bytes.ts'
import { readValue, shred, writeNode } from './columnar.ts'

/** What v8 alone gives back for `v`: the columnar layout must give back the same. */
const viaV8 = (v: unknown): unknown => deserialize(serialize(v))
const viaColumns = (v: unknown): unknown => {
  const w = new ByteWriter(Buffer.alloc(16))
  writeNode(shred(v), w)
  const r = new ByteReader(w.buffer, 'test', 0, w.pos)
  const back = readValue(r)
  assert.equal(r.pos, w.pos, 'every byte read')
  return back
}

const row = fc.record({ auction: fc.integer(), price: fc.double(), channel: fc.string(), extra: fc.option(fc.string(), { nil: undefined }) })
const rows = (min: number) => fc.array(row, { minLength: min, maxLength: 40 })

test('any value comes back as v8 alone would give it', () => {
  fc.assert(
    fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBigInt: true }), (v) => {
      assert.deepStrictEqual(viaColumns(v), viaV8(v))
    }),
    { numRuns: 500 },
  )
})

test('arrays of rows, tuples, lists and nullable values come back exactly', () => {
  const value = fc.record({
    table: rows(8),
    nested: fc.array(fc.record({ acc: fc.record({ best: fc.option(row, { nil: null }) }), n: fc.integer(), emitted: fc.boolean() }), { minLength: 8, maxLength: 30 }),
    tuples: fc.array(fc.tuple(fc.integer(), row, fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 1.5)), { minLength: 8, maxLength: 30 }),
    lists: fc.array(rows(0), { minLength: 8, maxLength: 20 }),
    sides: fc.array(fc.tuple(fc.tuple(fc.array(fc.tuple(row, fc.nat()), { maxLength: 12 }), fc.integer(), fc.integer()), fc.tuple(fc.array(fc.tuple(row, fc.nat()), { maxLength: 12 }), fc.integer(), fc.integer())), { minLength: 8, maxLength: 20 }),
    mixed: fc.array(fc.oneof(row, fc.integer(), fc.constant(null), fc.constant(undefined), fc.string()), { minLength: 8, maxLength: 30 }),
  })
  fc.assert(
    fc.property(value, (v) => {
      assert.deepStrictEqual(viaColumns(v), viaV8(v))
    }),
    { numRuns: 200 },
  )
})

test('rows of one shape become columns: a varint an integer, 8 bytes another number, no property names per row', () => {
  const data = Array.from({ length: 1000 }, (_, i) => ({ auction: i, price: i * 1.5, dateTime: 1_700_000_000_000 + i, name: `n${i % 10}` }))
  const node = shred(data) as unknown as [number, string[], [number, unknown][], number]
  assert.deepEqual(node[1], ['auction', 'price', 'dateTime', 'name'])
  assert.deepEqual(node[2].map((c) => c[0]), [9, 1, 9, 7])
  const w = new ByteWriter()
  writeNode(node as never, w)
  assert.ok(w.pos < 1000 * (1 + 8 + 1 + 8) + 200, `${w.pos} bytes`)
  assert.deepStrictEqual(viaColumns(data), data)
})

test('strings come back exactly: ASCII, Latin-1, emoji, lone surrogates, empty', () => {
  const s = ['plain', 'café', '😀 smile', '\ud800 alone', '', 'x\u0000y', '\udc00', 'ÿ']
  const v = [...s, ...s, ...s]
  assert.deepStrictEqual(viaColumns(v), v)
  fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { minLength: 8 }), (a) => assert.deepStrictEqual(viaColumns(a), a)))
})

test('a damaged column names the byte where reading failed', () => {
  const w = new ByteWriter()
  writeNode(shred(Array.from({ length: 10 }, (_, i) => ({ a: i }))), w)
  assert.throws(() => readValue(new ByteReader(w.buffer, 'key group 7', 0, w.pos - 3)), /key group 7 ends early/)
  const bad = Buffer.from([99])
  assert.throws(() => readValue(new ByteReader(bad, 'x')), /unknown column tag 99/)
})

test('odd shapes are left to v8: holes, class instances, keys in another order, a __proto__ key', () => {
  class Point {
    x = 1
  }
  const holes: unknown[] = new Array(10)
  holes[3] = 1
  const reordered = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? { a: i, b: i } : { b: i, a: i }))
  const proto = Array.from({ length: 10 }, (_, i) => JSON.parse(`{"__proto__": ${i}, "a": ${i}}`) as unknown)
  const intKeys = Array.from({ length: 10 }, (_, i) => ({ b: i, 1: i, a: String(i) }))
  for (const v of [holes, Array.from({ length: 10 }, () => new Point()), reordered, proto, intKeys, [[1, 2], ...Array.from({ length: 9 }, () => [3])]]) {
    assert.deepStrictEqual(viaColumns(v), viaV8(v))
  }
  const p = viaColumns(proto) as Record<string, unknown>[]
  assert.equal(Object.getPrototypeOf(p[0]), Object.prototype)
  assert.equal(Object.getOwnPropertyDescriptor(p[0], '__proto__')?.value, 0)
})

test('a cycle does not loop: deep nesting is left to v8', () => {
  const a: Record<string, unknown>[] = Array.from({ length: 10 }, (_, i) => ({ i, self: null as unknown }))
  for (const o of a) o.self = o
  const back = viaColumns(a) as Record<string, unknown>[]
  assert.equal(back.length, 10)
  assert.equal(back[3].i, 3)
})

test('rows of numbers, booleans and nulls come back exactly, also with a row of another shape or kind among them', () => {
  const flatRow = fc.record({ a: fc.double(), b: fc.boolean(), c: fc.constantFrom(null, undefined, 1, -0, NaN), d: fc.integer() })
  const odd = fc.oneof(fc.record({ a: fc.double(), b: fc.boolean() }), fc.record({ d: fc.integer(), a: fc.double(), b: fc.boolean(), c: fc.constant(null) }), fc.record({ a: fc.string(), b: fc.boolean(), c: fc.constant(null), d: fc.integer() }), fc.record({ a: fc.double(), b: fc.boolean(), c: fc.constant({ x: 1 }), d: fc.integer() }))
  fc.assert(
    fc.property(fc.array(flatRow, { minLength: 8, maxLength: 40 }), fc.option(fc.tuple(fc.nat(), odd)), (rows, bad) => {
      const v: unknown[] = rows.slice()
      if (bad !== null) v[bad[0] % v.length] = bad[1]
      assert.deepStrictEqual(viaColumns(v), viaV8(v))
    }),
    { numRuns: 300 },
  )
})

test('long arrays of mixed kinds, holes and nested lists come back whole', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => ({ a: i, b: `s${i}` }))
  const mixed: unknown[] = [...Array.from({ length: 2100 }, (_, i) => i * 0.5), ...Array.from({ length: 2100 }, (_, i) => `t${i}`), null, undefined, { x: 1 }]
  const holey: unknown[] = new Array(4500)
  holey[10] = 1
  holey[4400] = 'z'
  const nested = Array.from({ length: 3000 }, (_, i) => [Array.from({ length: i % 5 }, (_, j) => ({ v: j })), i])
  for (const v of [rows, mixed, holey, nested, { d: nested, s: rows }]) assert.deepStrictEqual(viaColumns(v), viaV8(v))
})

test('integer columns take a byte or two a value and come back exactly, edges too', () => {
  const size = (v: unknown) => {
    const w = new ByteWriter(Buffer.alloc(16))
    writeNode(shred(v), w)
    return w.pos
  }
  const positions = Array.from({ length: 10_000 }, (_, i) => i)
  const small = Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 100)
  const times = Array.from({ length: 10_000 }, (_, i) => 1_767_225_600_000 + i * 100 + (i % 7))
  assert.ok(size(positions) < 10_000 + 16, `positions: ${size(positions)} bytes`)
  assert.ok(size(small) < 20_000 + 16, `small integers: ${size(small)} bytes`)
  assert.ok(size(times) < 20_000 + 32, `timestamps in order: ${size(times)} bytes`)
  for (const v of [positions, small, times]) assert.deepStrictEqual(viaColumns(v), v)
  const edges = [0, 1, -1, 2 ** 50, -(2 ** 50), 2 ** 50 - 1, -(2 ** 50) + 1, 127, 128, -128, 2 ** 31, -(2 ** 31), 2 ** 32]
  assert.deepStrictEqual(viaColumns([...edges, ...edges]), [...edges, ...edges])
  // Not integers INTS holds: the column stays doubles, exact.
  for (const odd of [-0, 2 ** 50 + 1, -(2 ** 53), 0.5, NaN, Infinity]) {
    const v = [...edges, odd]
    assert.deepStrictEqual(viaColumns(v), v)
  }
  fc.assert(fc.property(fc.array(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), { minLength: 8, maxLength: 60 }), (v) => assert.deepStrictEqual(viaColumns(v), v)))
  fc.assert(fc.property(fc.array(fc.maxSafeInteger(), { minLength: 8, maxLength: 60 }), (v) => assert.deepStrictEqual(viaColumns(v), v)))
})
