import type { Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { resolvePipelineFile } from '../load-pipeline.ts'
import { requireTypes } from '../type-check/require-types.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'type-check a pipeline and the modules it imports',
  usage: 'sluice check <pipeline.ts>',
  description: [
    'Runs the TypeScript checker on the pipeline module and everything it imports, and prints each',
    'problem as file:line:col. The options are those of the nearest tsconfig.json above the pipeline',
    "(whether or not its 'include' lists the file), or strict defaults for what Node runs if there is",
    'none. `sluice run` does the same check first; a pipeline that passed is not checked again until',
    'one of its files changes.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice check <pipeline.ts>)' },
  flags: [],
  examples: ['sluice check pipelines/clicks.ts'],
  notes: 'Exit codes:\n  0    no type errors\n  2    usage error\n  3    type errors (printed as file:line:col - error TSnnnn: message)',

  async run({ positionals }, ctx) {
    const file = positionals[0]
    const r = await requireTypes(resolvePipelineFile(file, ctx.cwd), file, ctx)
    ctx.stdout.write(`${file}: no type errors (${r.tsconfig !== undefined ? `options of ${r.tsconfig}` : 'default strict options'}${r.cached ? ', unchanged since the last check' : ''})\n`)
    return exitCode.ok
  },
}
