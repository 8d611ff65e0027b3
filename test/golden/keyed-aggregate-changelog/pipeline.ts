import type { PipelineFactory } from 'sluice'
import { agg, pipeline, sink, source } from 'sluice'

// A running total per user (a changelog: +I, then -U/+U per change), and, from that changelog, how many
// users have a total of at least 5 ('big') or not ('small'): the second aggregate retracts a user's old
// total from its bucket before adding the new one. Both are written to one file, tagged by `out`.
const build: PipelineFactory = ({ params }) => {
  const totals = pipeline('golden-keyed-aggregate-changelog')
    .from(source.jsonl<{ user: string; amount: number }>(params.input))
    .keyBy((e) => e.user)
    .aggregate(agg.sum((e: { amount: number }) => e.amount))
  const buckets = totals
    .keyBy((t) => (t.value >= 5 ? 'big' : 'small'))
    .aggregate(agg.count())
    .map((b): Record<string, unknown> => ({ out: 'bucket', key: b.key, value: b.value }))
  return totals
    .map((t): Record<string, unknown> => ({ out: 'total', key: t.key, value: t.value }))
    .union(buckets)
    .to(sink.jsonl(params.output))
}
export default build
