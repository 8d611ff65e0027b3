import { DEFAULT_RETENTION_LOG, retentionPass } from '../retention/periodic.ts'
import { resolvePolicy, type RetentionPolicy } from '../retention/policy.ts'
import { fnTask, type TaskAction } from './task.ts'

/**
 * A task that applies a retention policy (as `sluice retention apply`) at the scheduler's time, logging each
 * deletion to `log` (default `.sluice/retention.log`); relative paths are taken from `cwd` (default the
 * process's). The policy is checked when the workflow is defined, so a bad one fails at once.
 * @example workflow('housekeeping', { schedule: every(86_400_000) }).task('retention', retentionTask({ savepoints: [{ dir: 'savepoints', maxAge: '30d' }] }))
 */
export function retentionTask(policy: RetentionPolicy, opts: { log?: string; cwd?: string } = {}): TaskAction {
  const resolved = resolvePolicy(policy)
  return fnTask(async (ctx) => {
    if (ctx.signal.aborted) return []
    return retentionPass(resolved, { logFile: opts.log ?? DEFAULT_RETENTION_LOG, now: ctx.now(), ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) })
  })
}
