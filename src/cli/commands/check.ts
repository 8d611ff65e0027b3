import { resolve } from 'node:path'
import type { Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { resolvePipelineFile } from '../load-pipeline.ts'
import { requireTypes } from '../type-check/require-types.ts'
import { UsageError, paramsFlag } from '../command.ts'
import { loadPipeline } from '../load-pipeline.ts'
import { checkPipelineContracts, formatContractChecks } from './registry-contracts.ts'

export const checkCommand: Command = {
  name: 'check',
  summary: 'type-check a pipeline and the modules it imports',
  usage: 'sluice check <pipeline.ts> [--contracts --registry <folder|url> [--register]]',
  description: [
    'Runs the TypeScript checker on the pipeline module and everything it imports, and prints each',
    'problem as file:line:col. The options are those of the nearest tsconfig.json above the pipeline',
    "(whether or not its 'include' lists the file), or strict defaults for what Node runs if there is",
    'none. `sluice run` does the same check first; a pipeline that passed is not checked again until',
    'one of its files changes.',
    '',
    "With --contracts, also compares the contract of each source with a schema registry (an embedded",
    "registry's folder, or the URL of one that speaks the Confluent API): a schema the subject's",
    'compatibility level refuses is listed with its breaking differences; --register registers the new',
    'compatible versions.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the pipeline file (sluice check <pipeline.ts>)' },
  flags: [
    { name: 'contracts', type: 'boolean', description: "compare the sources' contracts with a schema registry" },
    { name: 'registry', type: 'string', placeholder: 'DIR|URL', description: 'the schema registry: a folder (sluice registry --dir) or http(s) URL' },
    { name: 'register', type: 'boolean', description: 'with --contracts: register new compatible versions' },
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: "a parameter for the pipeline's factory (with --contracts)" },
  ],
  examples: ['sluice check pipelines/clicks.ts', 'sluice check pipelines/bids.ts --contracts --registry data/registry'],
  notes: 'Exit codes:\n  0    no type errors (and every contract compatible)\n  2    usage error\n  3    type errors (printed as file:line:col - error TSnnnn: message), or an incompatible contract',

  async run({ positionals, values }, ctx) {
    const file = positionals[0]
    if (values.contracts === true && typeof values.registry !== 'string') throw new UsageError('--contracts needs --registry <folder|url>', 'check')
    const r = await requireTypes(resolvePipelineFile(file, ctx.cwd), file, ctx)
    ctx.stdout.write(`${file}: no type errors (${r.tsconfig !== undefined ? `options of ${r.tsconfig}` : 'default strict options'}${r.cached ? ', unchanged since the last check' : ''})\n`)
    if (values.contracts !== true) return exitCode.ok
    const { pipeline } = await loadPipeline(file, paramsFlag(values, 'check'), ctx.cwd)
    const registry = String(values.registry)
    const checks = await checkPipelineContracts(pipeline, /^https?:\/\//.test(registry) ? registry : resolve(ctx.cwd, registry), values.register === true)
    ctx.stdout.write(formatContractChecks(checks))
    return checks.some((c) => c.status === 'incompatible') ? exitCode.userError : exitCode.ok
  },
}
