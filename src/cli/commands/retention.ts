import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { userError } from '../../core/errors.ts'
import { resolvePolicy, type RetentionPolicy } from '../../retention/policy.ts'
import { planRetention, type RetentionAction } from '../../retention/plan.ts'
import { applyRetention } from '../../retention/apply.ts'

export const retentionCommand: Command = {
  name: 'retention',
  summary: 'what retention would delete (plan), and deleting it (apply), with every deletion logged',
  usage: 'sluice retention plan|apply --policy <retention.yaml> [flags]',
  description: [
    'Applies a retention policy (YAML or JSON) to the artifacts Sluice writes: checkpoints beyond the',
    'newest N (never one a kept checkpoint builds on), savepoints and staging leftovers older than a',
    'maximum age, the old lines of lineage and audit logs, and the old segments of embedded log topics and',
    'dead-letter logs (past the policy\'s maxAge/maxBytes, else the topic\'s own retention; a log a running',
    'job holds is skipped: it enforces its topics\' retention itself). `plan` lists what would go and',
    'deletes nothing; `apply` deletes it and appends one JSON line per deletion to --log.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the action (plan or apply)' },
  flags: [
    { name: 'policy', type: 'string', placeholder: 'FILE', description: 'the retention policy (YAML or JSON)' },
    { name: 'log', type: 'string', placeholder: 'FILE', description: 'where apply logs deletions (default .sluice/retention.log)' },
    { name: 'json', type: 'boolean', description: 'print the actions as JSON' },
  ],
  examples: ['sluice retention plan --policy retention.yaml', 'sluice retention apply --policy retention.yaml --log logs/retention.log'],

  async run({ positionals, values }, ctx) {
    const action = positionals[0]
    if (action !== 'plan' && action !== 'apply') throw new UsageError(`unknown action '${action}'; use plan or apply`, 'retention')
    if (typeof values.policy !== 'string') throw new UsageError('--policy is required', 'retention')
    const path = resolve(ctx.cwd, values.policy)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      throw userError('SLUICE_BAD_ARGUMENT', `cannot read the retention policy '${values.policy}'`)
    }
    let raw: unknown
    try {
      raw = parseYaml(text)
    } catch {
      throw userError('SLUICE_BAD_OPTION', `the retention policy '${values.policy}' is not valid YAML or JSON`)
    }
    const policy = resolvePolicy(raw as RetentionPolicy)
    const now = Date.now()
    let actions = await planRetention(policy, now, ctx.cwd)
    if (action === 'apply') actions = await applyRetention(actions, resolve(ctx.cwd, typeof values.log === 'string' ? values.log : '.sluice/retention.log'), now)
    if (values.json === true) ctx.stdout.write(JSON.stringify(actions) + '\n')
    else ctx.stdout.write(formatActions(actions, action === 'apply'))
    return exitCode.ok
  },
}

function formatActions(actions: readonly RetentionAction[], done: boolean): string {
  if (actions.length === 0) return 'nothing to delete\n'
  const bytes = actions.reduce((a, x) => a + x.bytes, 0)
  const lines = actions.map((a) => `${done ? 'deleted' : 'would delete'} ${a.artifact} ${a.path}${a.lines !== undefined ? ` (${a.lines.dropped} lines)` : ''}: ${a.reason}`)
  return `${lines.join('\n')}\n${actions.length} deletions, ${bytes} bytes\n`
}
