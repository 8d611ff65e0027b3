import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, sink, source, window } from '../../index.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { placeVertices, planSignature } from './assign.ts'

function placements(p: ReturnType<typeof pipeline>): Record<string, string> {
  const plan = buildPlan(p)
  const placed = placeVertices(plan)
  return Object.fromEntries(plan.vertices.map((v) => [v.id, placed[v.index]]))
}

test('keyed steps and the chains that only they feed run in parallel; sources, errors, sinks and mixes on the main thread', () => {
  const p = pipeline('placement', { onError: 'error-output' })
  const s = p.from(source.collection([{ k: 1, ts: 0 }], { eventTime: (r) => r.ts }))
  const counts = s
    .map((r) => r)
    .id('before')
    .keyBy((r) => r.k)
    .window(window.tumbling({ size: '1s' }))
    .count()
    .id('count')
  const after = counts.map((r) => r.value).id('after')
  after.to(sink.collect())
  const summed = after
    .keyBy((v) => v % 2)
    .aggregate(agg.count())
    .id('second')
  summed.union(s.map(() => ({ key: 0, value: 0 })).id('side')).id('mixed').to(sink.collect())
  p.errors().to(sink.collect())
  assert.deepEqual(placements(p), {
    'source-collection-1': 'main',
    before: 'main',
    count: 'parallel',
    after: 'parallel',
    'sink-collect-1': 'main',
    second: 'parallel',
    side: 'main',
    mixed: 'main',
    'sink-collect-2': 'main',
    'errors-1': 'main',
    'sink-collect-3': 'main',
  })
})

test('the plan signature changes with the shape of the graph', () => {
  const build = (id: string) => {
    const p = pipeline('sig')
    p.from(source.collection([1, 2, 3]))
      .keyBy((v) => v)
      .aggregate(agg.count())
      .id(id)
      .to(sink.collect())
    return planSignature(buildPlan(p))
  }
  assert.equal(build('a'), build('a'))
  assert.notEqual(build('a'), build('b'))
})
