import assert from 'node:assert/strict'
import { test } from 'node:test'
import { serialize } from 'node:v8'
import fc from 'fast-check'
import { decodeValue, encodeShared, encodeValue } from './value-codec.ts'

const roundTrip = (v: unknown): unknown => decodeValue(encodeValue(v))

test('values come back as a structured clone gives them, property by property', () => {
  const leaf = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 51, -(2 ** 51), 2 ** 51 + 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: 'grapheme' }),
    fc.string({ maxLength: 60 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
  )
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
    array: fc.array(tie('value'), { maxLength: 6 }),
    object: fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 6 }),
    map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((kv) => new Map(kv)),
    set: fc.array(tie('value'), { maxLength: 4 }).map((xs) => new Set(xs)),
  }))
  fc.assert(
    fc.property(value, (v) => {
      assert.deepStrictEqual(roundTrip(v), structuredClone(v))
    }),
    { numRuns: 2000 },
  )
  // The same values reached twice: still one object each after the trip, where structured clone keeps them one.
  fc.assert(
    fc.property(value, value, (x, y) => {
      const v = [x, { y, x }, new Map([[1, y]]), x]
      const back = roundTrip(v) as unknown[]
      assert.deepStrictEqual(back, structuredClone(v))
      if (typeof x === 'object' && x !== null) assert.equal(back[0], back[3])
      if (typeof y === 'object' && y !== null) assert.equal((back[1] as { y: unknown }).y, (back[2] as Map<number, unknown>).get(1))
    }),
    { numRuns: 500 },
  )
})

test('lone surrogates, long strings and property order survive', () => {
  const s = 'a\uD800b\uDFFFc' + 'x'.repeat(100)
  assert.equal(roundTrip(s), s)
  const latin = 'é'.repeat(40)
  assert.equal(roundTrip(latin), latin)
  // Long strings are tried as ASCII first: one code unit past it, anywhere, takes the other paths.
  for (const odd of ['é', '\u0100', '😀', '\uD800', '\u007f\u0080']) {
    for (const at of [0, 20, 60]) {
      const long = 'y'.repeat(at) + odd + 'z'.repeat(60 - at)
      assert.equal(roundTrip(long), long)
    }
  }
  assert.equal(roundTrip('q'.repeat(5000)), 'q'.repeat(5000))
  assert.deepStrictEqual(Object.keys(roundTrip({ b: 1, a: 2, 3: 'x', 1: 'y' }) as object), ['1', '3', 'b', 'a'])
})

test('an own __proto__ key stays a property, not a prototype', () => {
  const v = JSON.parse('{"__proto__": {"x": 1}, "y": 2}')
  const back = roundTrip(v) as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(back), Object.prototype)
  assert.deepStrictEqual(Object.keys(back), ['__proto__', 'y'])
  assert.deepStrictEqual(back['__proto__'], { x: 1 })
})

test('shared objects and cycles stay shared and cyclic; what the compact form does not cover falls back to v8', () => {
  const shared = { n: 1 }
  const pair = roundTrip([shared, shared]) as object[]
  assert.equal(pair[0], pair[1], 'an object reached twice is still one object')
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const c = roundTrip(cyclic) as Record<string, unknown>
  assert.equal(c.self, c)
  const m = new Map<string, unknown>()
  const date = new Date(5)
  m.set('me', m).set('d', date).set('s', new Set([date, m]))
  const mb = roundTrip({ m, date }) as { m: Map<string, unknown>; date: Date }
  assert.equal(mb.m.get('me'), mb.m)
  assert.equal(mb.m.get('d'), mb.date)
  assert.deepStrictEqual([...(mb.m.get('s') as Set<unknown>)], [mb.date, mb.m])
  assert.notEqual(encodeValue(pair)[0], 14, 'shared objects need no fallback')
  const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
  const s = roundTrip(sparse) as unknown[]
  assert.equal(1 in s, false)
  assert.equal(s.length, 3)
  const extra = Object.assign([1, 2], { tag: 'x' })
  assert.equal((roundTrip(extra) as unknown as { tag: string }).tag, 'x')
  const typed = new Float64Array([1.5, -0])
  assert.deepStrictEqual(roundTrip(typed), typed)
  const many = Array.from({ length: 100 }, (_, i) => ({ i }))
  assert.deepStrictEqual(roundTrip(many), many)
  const deep = { inner: many, again: many[50] }
  const back = roundTrip(deep) as { inner: object[]; again: object }
  assert.equal(back.again, back.inner[50])
})

test('what v8 cannot clone fails as it fails', () => {
  const f = { f: () => 1 }
  let expected: unknown
  try {
    serialize(f)
  } catch (e) {
    expected = e
  }
  assert.throws(() => encodeValue(f), (e: Error) => e.message === (expected as Error).message && /could not be cloned/.test(e.message))
})

test('a plain row takes fewer bytes than in the v8 form, and each encoding owns its bytes', () => {
  const row = [{ auction: 1000, price: 4321, dateTime: 1_700_000_000_000 }, 3]
  const bytes = encodeValue(row)
  assert.ok(bytes.length < serialize(row).length, `${bytes.length} bytes`)
  // A second encoding does not share the first one's buffer.
  const again = encodeValue('other')
  assert.deepStrictEqual(decodeValue(bytes), row)
  assert.equal(decodeValue(again), 'other')
})

test('the shared encoding marks the same bytes in a buffer of its own, grown for large values', () => {
  for (const v of [{ a: 1 }, 'x'.repeat(10_000), [new Map([[1, 2]])], Object.assign([1], { p: 1 })]) {
    const own = encodeValue(v)
    const shared = encodeShared(v)
    assert.equal(shared.byteOffset, 0, 'not a slice of a pool: the store reads from the start of its memory')
    assert.deepStrictEqual(shared.subarray(shared.start, shared.end), own)
  }
})

test('a value nested deeper than the compact form allows falls back to v8 whole and comes back the same', () => {
  let deep: unknown = 'leaf'
  for (let i = 0; i < 500; i++) deep = i % 2 === 0 ? [deep] : { d: deep }
  const bytes = encodeValue(deep)
  assert.equal(bytes[0], 14, 'the v8 form')
  assert.deepStrictEqual(decodeValue(bytes), deep)
  let shallow: unknown = 1
  for (let i = 0; i < 50; i++) shallow = [shallow]
  assert.notEqual(encodeValue(shallow)[0], 14)
  assert.deepStrictEqual(decodeValue(encodeValue(shallow)), shallow)
})

test('objects of one shape write their names once per process: smaller values, the same objects back', () => {
  const named = encodeValue({ auction: 1, price: 2, dateTime: 3 })
  const again = encodeValue({ auction: 1, price: 2, dateTime: 3 })
  assert.deepEqual(again, named, 'a shape keeps its number')
  assert.ok(named.length < 12, `a three-number row in ${named.length} bytes`)
  // Same names in another order are another shape; order is kept.
  assert.deepEqual(Object.keys(decodeValue(encodeValue({ price: 2, auction: 1, dateTime: 3 })) as object), ['price', 'auction', 'dateTime'])
  // Many shapes, more than the cache of recent ones holds, each one back as it was.
  const values = Array.from({ length: 2000 }, (_, i) => ({ [`k${i % 700}`]: i, [`x${i % 3}`]: [{ a: i }], z: null }))
  const bytes = values.map((v) => encodeValue(v))
  for (let i = 0; i < values.length; i++) assert.deepEqual(decodeValue(bytes[i]), values[i])
  // Objects with too many names to be a shape, and an own __proto__, are written with their names.
  const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, i]))
  assert.deepEqual(decodeValue(encodeValue(wide)), wide)
  const proto = JSON.parse('{"__proto__": 1, "a": 2}')
  const back = decodeValue(encodeValue(proto)) as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(back), Object.prototype)
  assert.deepEqual(Object.keys(back), ['__proto__', 'a'])
})
