import { resolve } from 'node:path'
import type { CliContext, Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { parseDuration } from '../../core/duration.ts'
import { errorMessage } from '../../core/errors.ts'
import { readPolicyFile } from '../../retention/load.ts'
import { planRetention, type RetentionAction } from '../../retention/plan.ts'
import type { ResolvedPolicy } from '../../retention/policy.ts'
import { DEFAULT_RETENTION_LOG, retentionLoop, retentionPass } from '../../retention/periodic.ts'

export const retentionCommand: Command = {
  name: 'retention',
  summary: 'what retention would delete (plan), and deleting it (apply), with every deletion logged',
  usage: 'sluice retention plan|apply --policy <retention.yaml> [flags]',
  description: [
    'Applies a retention policy (YAML or JSON) to the artifacts Sluice writes: checkpoints beyond the',
    'newest N (never one a kept checkpoint builds on), savepoints and staging leftovers older than a',
    'maximum age, the old closed segments of lineage files (never the file a running job appends to) and the',
    'old lines of logs no process writes, and the old segments of embedded log topics and',
    'dead-letter logs (past the policy\'s maxAge/maxBytes, else the topic\'s own retention; a log a running',
    'job holds is skipped: it enforces its topics\' retention itself). `plan` lists what would go and',
    'deletes nothing; `apply` deletes it and appends one JSON line per deletion to --log. With --every,',
    '`apply` runs until SIGTERM or Ctrl-C: a pass at once, then one every DURATION (a pass under way',
    'finishes first); a pass that fails is reported and the next one runs.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the action (plan or apply)' },
  flags: [
    { name: 'policy', type: 'string', placeholder: 'FILE', description: 'the retention policy (YAML or JSON)' },
    { name: 'log', type: 'string', placeholder: 'FILE', description: `where apply logs deletions (default ${DEFAULT_RETENTION_LOG})` },
    { name: 'every', type: 'string', placeholder: 'DURATION', description: "apply: keep running, a pass every DURATION (e.g. '1h') until SIGTERM or Ctrl-C" },
    { name: 'json', type: 'boolean', description: 'print the actions as JSON' },
  ],
  examples: ['sluice retention plan --policy retention.yaml', 'sluice retention apply --policy retention.yaml --log logs/retention.log', 'sluice retention apply --policy retention.yaml --every 1h'],

  async run({ positionals, values }, ctx) {
    const action = positionals[0]
    if (action !== 'plan' && action !== 'apply') throw new UsageError(`unknown action '${action}'; use plan or apply`, 'retention')
    if (typeof values.policy !== 'string') throw new UsageError('--policy is required', 'retention')
    let everyMs: number | undefined
    if (typeof values.every === 'string') {
      if (action !== 'apply') throw new UsageError('--every goes with apply', 'retention')
      try {
        everyMs = parseDuration(values.every, '--every')
      } catch (e) {
        throw new UsageError(errorMessage(e), 'retention')
      }
      if (everyMs <= 0) throw new UsageError('--every must be positive', 'retention')
    }
    const policy = await readPolicyFile(resolve(ctx.cwd, values.policy), values.policy)
    const logFile = resolve(ctx.cwd, typeof values.log === 'string' ? values.log : DEFAULT_RETENTION_LOG)
    const print = (actions: RetentionAction[], done: boolean) => ctx.stdout.write(values.json === true ? JSON.stringify(actions) + '\n' : formatActions(actions, done))
    if (everyMs !== undefined) return await applyEvery(policy, { logFile, everyMs, cwd: ctx.cwd, json: values.json === true, print }, ctx)
    const now = Date.now()
    if (action === 'apply') print(await retentionPass(policy, { logFile, now, cwd: ctx.cwd }), true)
    else print(await planRetention(policy, now, ctx.cwd), false)
    return exitCode.ok
  },
}

/** `apply --every`: passes until SIGTERM or Ctrl-C; each pass's deletions printed under a line naming it. */
async function applyEvery(policy: ResolvedPolicy, o: { logFile: string; everyMs: number; cwd: string; json: boolean; print: (a: RetentionAction[], done: boolean) => void }, ctx: CliContext): Promise<number> {
  const stop = new AbortController()
  const onSignal = () => stop.abort()
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const passes = await retentionLoop(policy, {
      logFile: o.logFile,
      everyMs: o.everyMs,
      cwd: o.cwd,
      signal: stop.signal,
      onPass: ({ pass, at, actions }) => {
        if (!o.json) ctx.stdout.write(`retention pass ${pass} at ${new Date(at).toISOString()}\n`)
        o.print(actions, true)
      },
      onError: (e, pass) => void ctx.stderr.write(`retention pass ${pass} failed: ${errorMessage(e)}\n`),
    })
    ctx.stderr.write(`stopped after ${passes} retention passes\n`)
    return exitCode.ok
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function formatActions(actions: readonly RetentionAction[], done: boolean): string {
  if (actions.length === 0) return 'nothing to delete\n'
  const bytes = actions.reduce((a, x) => a + x.bytes, 0)
  const lines = actions.map((a) => `${done ? 'deleted' : 'would delete'} ${a.artifact} ${a.path}${a.lines !== undefined ? ` (${a.lines.dropped} lines)` : ''}: ${a.reason}`)
  return `${lines.join('\n')}\n${actions.length} deletions, ${bytes} bytes\n`
}
