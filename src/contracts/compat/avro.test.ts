import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import avro from 'avsc'
import { avroReadDifferences, parseAvro } from './avro.ts'
import { avroSchemaArbitrary } from './avro-arbitrary.ts'

/** The reference: avsc builds a resolver, and values written with `w` decode with `r`. */
function avscReads(r: avro.Type, w: avro.Type): boolean {
  let resolver
  try {
    resolver = r.createResolver(w)
  } catch {
    return false
  }
  for (let i = 0; i < 20; i++) {
    const v = w.random()
    r.fromBuffer(w.toBuffer(v), resolver) // throws if resolution was wrong: the property then fails loudly
  }
  return true
}

test('compatible agrees with avsc decoding, for random pairs of Avro schemas', () => {
  let compatible = 0
  fc.assert(
    fc.property(avroSchemaArbitrary(), avroSchemaArbitrary(), (a, b) => {
      const r = parseAvro(a)
      const w = parseAvro(b)
      const ours = avroReadDifferences(r, w).length === 0
      if (ours) compatible++
      assert.equal(ours, avscReads(r, w), `reader ${JSON.stringify(a)}\nwriter ${JSON.stringify(b)}\ndifferences ${JSON.stringify(avroReadDifferences(r, w))}`)
    }),
    { numRuns: 1000 },
  )
  assert.ok(compatible > 30, `only ${compatible} compatible pairs: the generator should make related schemas`)
})

test('a schema reads itself, and the writer with a field removed when the reader has a default', () => {
  fc.assert(fc.property(avroSchemaArbitrary(), (s) => assert.deepEqual(avroReadDifferences(parseAvro(s), parseAvro(s)), [])))
  const v1 = parseAvro({ type: 'record', name: 'Bid', fields: [{ name: 'price', type: 'int' }] })
  const v2 = parseAvro({ type: 'record', name: 'Bid', fields: [{ name: 'price', type: 'long' }, { name: 'channel', type: 'string', default: 'web' }] })
  assert.deepEqual(avroReadDifferences(v2, v1), [])
  assert.deepEqual(avroReadDifferences(v1, v2).map((d) => d.kind), ['TYPE_MISMATCH'])
  const v3 = parseAvro({ type: 'record', name: 'Bid', fields: [{ name: 'price', type: 'long' }, { name: 'channel', type: 'string' }] })
  assert.deepEqual(avroReadDifferences(v3, v1), [{ path: 'channel', kind: 'READER_FIELD_MISSING_DEFAULT_VALUE', message: "field 'channel' is missing from the writer and has no default" }])
})

test('aliases: a renamed record and field still read the old data', () => {
  const v1 = parseAvro({ type: 'record', name: 'Old', fields: [{ name: 'p', type: 'int' }] })
  const v2 = parseAvro({ type: 'record', name: 'New', aliases: ['Old'], fields: [{ name: 'price', aliases: ['p'], type: 'int' }] })
  assert.deepEqual(avroReadDifferences(v2, v1), [])
  assert.equal(avscReads(v2, v1), true)
})
