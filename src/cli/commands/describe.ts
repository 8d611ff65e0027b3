import type { Pipeline } from '../../api/pipeline.ts'
import type { Command } from '../command.ts'
import { paramsFlag } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { loadPipeline } from '../load-pipeline.ts'

export const describeCommand: Command = {
  name: 'describe',
  summary: 'print the steps of a pipeline without running it',
  usage: 'sluice describe <pipeline.ts> [flags]',
  description: [
    "Builds the pipeline the module default-exports and prints its plan: each step's id, kind, inputs",
    '(which step, which side output, whether keyed) and configuration, and what each sink guarantees with',
    'and without checkpoints. Nothing is read or written.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice describe <pipeline.ts>)' },
  flags: [
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for a pipeline factory' },
    { name: 'json', type: 'boolean', description: 'print the plan as JSON' },
  ],
  examples: ['sluice describe examples/quickstart/pipeline.ts'],

  async run({ values, positionals }, ctx) {
    const { pipeline } = await loadPipeline(positionals[0], paramsFlag(values, 'describe'), ctx.cwd)
    ctx.stdout.write(values.json === true ? JSON.stringify(pipeline.describe(), plainJson, 2) + '\n' : formatPlan(pipeline))
    return exitCode.ok
  },
}

/** The plan as text: one block per step. */
export function formatPlan(p: Pipeline): string {
  const d = p.describe()
  const lines = [`pipeline '${d.name}'  (${d.steps.length} steps, onError '${p.options.onError}', batchSize ${p.options.batchSize})`, '']
  const width = Math.max(...d.steps.map((s) => s.id.length))
  for (const s of d.steps) {
    const inputs = s.inputs.map((i) => `${i.from}${i.tag !== undefined ? `[${i.tag}]` : ''}${i.keyed ? ' (keyed)' : ''}`)
    lines.push(`${s.id.padEnd(width)}  ${s.kind}${inputs.length > 0 ? `  <- ${inputs.join(', ')}` : ''}`)
    for (const [k, v] of Object.entries(s.config)) lines.push(`${' '.repeat(width)}    ${k}: ${k === 'guarantee' ? formatGuarantee(v) : JSON.stringify(v, plainJson)}`)
  }
  return lines.join('\n') + '\n'
}

/** A sink's guarantee depends on the run: said for both kinds. */
function formatGuarantee(g: unknown): string {
  const { checkpointing, withoutCheckpoints } = (g ?? {}) as { checkpointing?: string; withoutCheckpoints?: string }
  if (checkpointing === undefined || withoutCheckpoints === undefined) return JSON.stringify(g, plainJson)
  if (checkpointing === withoutCheckpoints) return checkpointing
  return `${checkpointing} with checkpoints (--checkpoint-dir), ${withoutCheckpoints} without`
}

/** JSON with the values plain JSON cannot hold spelled out. */
function plainJson(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  if (typeof v === 'function') return '[function]'
  if (typeof v === 'bigint') return v.toString()
  return v
}
