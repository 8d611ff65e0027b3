// Local pre-aggregation before the exchange of event-time windows gives the plain windows' output, record for
// record (updates within allowed lateness and late records included), at parallelism 1 and 2.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run } from '../../src/index.ts'
import type { CollectSink } from '../../src/connectors/memory/collect-sink.ts'
import { build } from './fixtures/window-combine.ts'

const module = new URL('./fixtures/window-combine.ts', import.meta.url).href

/** Every record with its time and changelog kind, in a canonical order. */
const sorted = (s: CollectSink<unknown>) => s.records.map((r) => JSON.stringify(r)).sort()

async function results(combine: string, parallelism: number) {
  const params = { combine }
  const built = build(params)
  const summary = await run(built.pipeline, { parallelism, module, params })
  return { summary, tumbling: sorted(built.tumbling), sliding: sorted(built.sliding), sessions: sorted(built.sessions), late: sorted(built.late) }
}

test('combined event-time windows give the plain output, late records and late updates included, at parallelism 1 and 2', { timeout: 300_000 }, async () => {
  for (const parallelism of [1, 2]) {
    const plain = await results('false', parallelism)
    assert.ok(plain.late.length > 0, 'the input has records too late for their window')
    assert.ok(plain.tumbling.some((r) => r.includes('"-U"')), 'the input has records that update a fired window')
    assert.ok(plain.sessions.some((r) => r.includes('"-D"')), 'late records merge sessions that had fired')
    assert.equal(plain.summary.steps.some((s) => s.kind === 'combine'), false)
    for (const combine of ['true', 'pipeline', 'auto']) {
      const combined = await results(combine, parallelism)
      const what = `combine ${combine} at parallelism ${parallelism}`
      assert.deepEqual(combined.tumbling, plain.tumbling, `tumbling, ${what}`)
      assert.deepEqual(combined.sliding, plain.sliding, `sliding, ${what}`)
      assert.deepEqual(combined.sessions, plain.sessions, `sessions, ${what}`)
      assert.deepEqual(combined.late, plain.late, `late records, ${what}`)
      assert.equal(combined.summary.late, plain.summary.late, `late count, ${what}`)
      const steps = combined.summary.steps
      assert.equal(steps.filter((s) => s.kind === 'combine').length, 3, `a combine step per window, ${what}`)
      // A hot key crosses the exchange once per window and batch: the window step takes far fewer records than were read.
      const windowIn = steps.find((s) => s.step === 'window-aggregate-1')!.in
      if (combine === 'auto' && parallelism === 1) {
        // No exchange follows the default combiner at parallelism 1: it hands every record on as it came.
        assert.equal(windowIn, plain.summary.steps.find((s) => s.step === 'window-aggregate-1')!.in, `the window takes every record, ${what}`)
        assert.equal(steps.find((s) => s.step === 'combine-1')!.out, windowIn, `the combiner passes records through, ${what}`)
      } else {
        assert.ok(windowIn < 20_000 / 4, `the tumbling window merged ${windowIn} partials and raw records for 20000 records, ${what}`)
      }
    }
  }
})

test('a step opts out of the pipeline-wide combine', async () => {
  const { pipeline: p } = build({ combine: 'off' })
  assert.equal(p.nodes.some((n) => n.kind === 'combine'), false)
})

test('by default every window with an exactly merging aggregate gets a combiner that folds at parallelism > 1', () => {
  const { pipeline: p } = build({ combine: 'auto' })
  const combiners = p.nodes.filter((n) => n.kind === 'combine')
  assert.equal(combiners.length, 3)
  for (const c of combiners) assert.equal(c.describe.preAggregate, 'parallelism > 1')
  assert.equal(build({ combine: 'true' }).pipeline.nodes.find((n) => n.kind === 'combine')!.describe.preAggregate, 'always')
})
