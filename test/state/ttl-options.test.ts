import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, source } from '../../src/index.ts'

test('aggregate and join take the same ttl and ttlTime options, checked when the pipeline is built', () => {
  const keyed = () => pipeline('ttl').from(source.collection([{ k: 'a' }])).keyBy((r) => r.k)
  keyed().aggregate(agg.count(), { ttl: '1h', ttlTime: 'event' })
  keyed().reduce((a) => a, { ttl: 60_000 })
  assert.throws(() => keyed().aggregate(agg.count(), { ttl: '1h', ttlTime: 'wall' as never }), /aggregate: ttlTime must be 'processing' or 'event'/)
  assert.throws(() => keyed().aggregate(agg.count(), { ttl: 'soon' }), /invalid duration/)
  const k = keyed()
  assert.throws(() => k.join(keyed(), { ttl: '1h', ttlTime: 'wall' as never }, (a, b) => [a, b]), /join: ttlTime must be 'processing' or 'event'/)
})
