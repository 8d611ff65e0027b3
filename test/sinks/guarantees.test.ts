import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, sink, source } from '../../src/index.ts'
import { formatSinkGuarantees, sinkGuarantees } from '../../src/api/sink-guarantees.ts'
import { formatPlan } from '../../src/cli/commands/describe.ts'

function build() {
  const p = pipeline('guarantees')
  const s = p.from(source.collection([1, 2]))
  s.to(sink.jsonl('out/counts.jsonl'), { id: 'counts' })
  s.to(sink.console())
  return p
}

test('a JSONL sink without checkpoints does not claim exactly-once; describe says both', () => {
  const p = build()
  assert.deepEqual(sinkGuarantees(p, { checkpointing: false }), [
    { step: 'counts', guarantee: 'at-least-once' },
    { step: 'sink-console-1', guarantee: 'none' },
  ])
  assert.deepEqual(sinkGuarantees(p, { checkpointing: true })[0], { step: 'counts', guarantee: 'exactly-once' })
  assert.equal(formatSinkGuarantees(sinkGuarantees(p, { checkpointing: false })), 'sinks: counts at-least-once, sink-console-1 none')
  const plan = formatPlan(p)
  assert.match(plan, /\ncounts +sink-jsonl +<- source-collection-1\n(?: +\S.*\n)* +guarantee: exactly-once with checkpoints \(--checkpoint-dir\), at-least-once without\n/)
  assert.match(plan, /\nsink-console-1 +sink-console +<- source-collection-1\n(?: +\S.*\n)* +guarantee: none\n/)
})
