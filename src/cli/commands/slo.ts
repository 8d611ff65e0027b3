import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { userError } from '../../core/errors.ts'
import { sloDashboard } from '../../observe/slo/dashboard.ts'
import { sloRules } from '../../observe/slo/rules.ts'
import { sloStatus, formatSloStatus } from '../../observe/slo/status.ts'
import { toYaml } from '../../observe/slo/yaml.ts'
import type { Command } from '../command.ts'
import { paramsFlag, UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { loadPipeline } from '../load-pipeline.ts'

const ACTIONS = ['rules', 'dashboard', 'status'] as const

export const sloCommand: Command = {
  name: 'slo',
  summary: "turn a pipeline's SLOs into Prometheus rules and a Grafana dashboard; show them live",
  usage: 'sluice slo rules|dashboard|status <pipeline.ts> [flags]',
  description: [
    "Reads the objectives the pipeline declares (pipeline(name, { slo: { ... } })) without running it.",
    '  rules      Prometheus recording rules (error ratio of each SLI, burn rates, error budget left) and',
    '             multi-window burn-rate alerts: 1h/5m at 14.4x and 6h/30m at 6x page, 1d/2h at 3x and',
    '             3d/6h at 1x open a ticket (YAML, for rule_files)',
    '  dashboard  a Grafana dashboard (JSON): SLIs, error budget, burn rate, per-step throughput, lag,',
    '             backpressure, skew, state and checkpoints',
    '  status     the live SLIs, budget left and burn rates, asked of the Prometheus that runs the rules',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: 'what to do and the pipeline file (sluice slo rules <pipeline.ts>)' },
  flags: [
    { name: 'param', type: 'string', multiple: true, placeholder: 'key=value', description: 'a parameter for a pipeline factory' },
    { name: 'out', short: 'o', type: 'string', placeholder: 'FILE', description: 'write to FILE instead of stdout (rules, dashboard)' },
    { name: 'prometheus', type: 'string', placeholder: 'URL', description: 'the Prometheus server to ask (status; default http://127.0.0.1:9090)' },
    { name: 'json', type: 'boolean', description: 'print the status as JSON' },
  ],
  examples: [
    'sluice slo rules examples/monitored-orders/pipeline.ts -o rules/orders.yml',
    'sluice slo dashboard examples/monitored-orders/pipeline.ts -o dashboards/orders.json',
    'sluice slo status examples/monitored-orders/pipeline.ts --prometheus http://127.0.0.1:9090',
  ],

  async run({ values, positionals }, ctx) {
    const [action, file] = positionals
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}' (give one of: ${ACTIONS.join(', ')})`, 'slo')
    const { pipeline } = await loadPipeline(file, paramsFlag(values, 'slo'), ctx.cwd)
    const spec = pipeline.options.slo
    if (spec === undefined || Object.keys(spec).length === 0) {
      throw userError('SLUICE_NO_SLO', `pipeline '${pipeline.name}' declares no SLO`, { hint: "add pipeline(name, { slo: { errors: { objective: 0.999 } } }); see 'SLOs as code' in the README" })
    }
    if (action === 'status') {
      const status = await sloStatus(typeof values.prometheus === 'string' ? values.prometheus : 'http://127.0.0.1:9090', pipeline.name, spec)
      ctx.stdout.write(values.json === true ? JSON.stringify(status) + '\n' : formatSloStatus(status))
      return exitCode.ok
    }
    const text = action === 'rules' ? toYaml(sloRules(pipeline.name, spec)) : JSON.stringify(sloDashboard(pipeline.name, spec), null, 2) + '\n'
    if (typeof values.out === 'string') writeFileSync(resolve(ctx.cwd, values.out), text)
    else ctx.stdout.write(text)
    return exitCode.ok
  },
}
