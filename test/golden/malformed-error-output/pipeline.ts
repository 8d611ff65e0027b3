import type { PipelineFactory } from 'sluice'
import { pipeline, sink, source } from 'sluice'

// Under onError 'error-output', lines that are not JSON and records whose function throws go to the
// errors stream with their step and line; the other records go through. Both are written to one file.
const build: PipelineFactory = ({ params }) => {
  const p = pipeline('golden-malformed-error-output', { onError: 'error-output' })
  const ok = p
    .from(source.jsonl<{ id: number; n: number }>(params.input))
    .map((r) => {
      if (r.n === 0) throw new Error('n must not be zero')
      return { id: r.id, ratio: 10 / r.n }
    })
    .id('ratio')
    .map((r): Record<string, unknown> => ({ out: 'ok', ...r }))
  const errors = p.errors().map((e): Record<string, unknown> => ({ out: 'error', step: e.step, line: Number(String(e.position).split(':').at(-1)), error: e.error }))
  return ok.union(errors).to(sink.jsonl(params.output))
}
export default build
