import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline } from '../api/pipeline.ts'
import { sink, source } from '../connectors/index.ts'
import { SluiceError } from '../core/errors.ts'
import { buildPlan } from '../plan/physical-plan.ts'
import { checkCompatibility, DEAD_LETTERS } from './compatibility.ts'
import type { Manifest } from './manifest.ts'

function graphOf(build: (p: ReturnType<typeof pipeline>) => void): { plan: ReturnType<typeof buildPlan> } {
  const p = pipeline('compat')
  build(p)
  return { plan: buildPlan(p) }
}

function manifest(sinks: Manifest['sinks']): Manifest {
  return { format: 1, kind: 'checkpoint', id: 3, pipeline: 'compat', createdAt: '', parallelism: 1, keyGroups: 128, sources: [], operators: [], sinks, vertices: [], metrics: [] }
}

const pending = [{ checkpointId: 3, handle: { txns: [] } }]
const warnings: string[] = []
const warn = (m: string) => void warnings.push(m)

test('a sink named with .to(sink, { id }) matches its pending handles; the default id (its kind and position) does too', () => {
  const g = graphOf((p) => {
    const s = p.from(source.collection([1]))
    s.to(sink.jsonl('out/a'), { id: 'a-out' })
    s.to(sink.jsonl('out/b'))
  })
  const m = manifest([
    { step: 'a-out', kind: 'sink-jsonl', pending },
    { step: 'sink-jsonl-2', kind: 'sink-jsonl', pending },
    { step: DEAD_LETTERS, pending },
  ])
  assert.deepEqual([...checkCompatibility(m, g, [], false, warn)], [])
})

test('pending handles of a sink no longer in the pipeline, or of a sink of another kind, are mismatches like operators', () => {
  const g = graphOf((p) => p.from(source.collection([1])).to(sink.parquet('out/a'), { id: 'a-out' }))
  const m = manifest([
    { step: 'a-out', kind: 'sink-jsonl', pending },
    { step: 'gone', kind: 'sink-jsonl', pending },
    { step: 'committed-long-ago', kind: 'sink-jsonl', pending: [] },
  ])
  assert.throws(
    () => checkCompatibility(m, g, [], false, warn),
    (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CHECKPOINT_MISMATCH' && e.message.includes("sink 'a-out' was a sink-jsonl and is now a sink-parquet") && e.message.includes("sink 'gone' (sink-jsonl)") && !e.message.includes('committed-long-ago'),
  )
  warnings.length = 0
  assert.deepEqual([...checkCompatibility(m, g, [], true, warn)].sort(), ['a-out', 'gone'], 'with allowDropped they are dropped')
  assert.equal(warnings.length, 2)
})

test('a .to id is checked like a step id', () => {
  assert.throws(() => pipeline('p').from(source.collection([1])).to(sink.collect(), { id: 'bad id!' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_STEP_ID')
})
