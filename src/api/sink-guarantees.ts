import { sinkGuarantee, type SinkGuarantee, type SinkRun } from '../core/sink.ts'
import type { Pipeline } from './pipeline.ts'

/**
 * What each sink of `p` guarantees in `run`, by step id.
 * @example sinkGuarantees(p, { checkpointing: false }) // [{ step: 'sink-jsonl-1', guarantee: 'at-least-once' }]
 */
export function sinkGuarantees(p: Pipeline, run: SinkRun): { step: string; guarantee: SinkGuarantee }[] {
  const out: { step: string; guarantee: SinkGuarantee }[] = []
  for (const n of p.nodes) if (n.impl.role === 'sink') out.push({ step: n.id, guarantee: sinkGuarantee(n.impl.sink, run) })
  return out
}

/** One line for a run summary: `sinks: sink-jsonl-1 exactly-once, sink-console-1 none`. */
export function formatSinkGuarantees(list: readonly { step: string; guarantee: SinkGuarantee }[]): string {
  return `sinks: ${list.map((s) => `${s.step} ${s.guarantee}`).join(', ')}`
}
