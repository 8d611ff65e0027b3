import { existsSync } from 'node:fs'
import { SluiceError } from '../core/errors.ts'
import type { TaskAction, TaskContext } from './task.ts'

/**
 * A condition a sensor waits for; it may be async (a catalog or object store lookup).
 * @example
 * const bigEnough: SensorCheck = async ({ partition }) => (await stat(`drop/${partition}.jsonl`)).size > 0
 * builder.task('wait-drop', sensorTask(bigEnough, { pollMs: 60_000 }))
 */
export type SensorCheck = (ctx: TaskContext) => boolean | Promise<boolean>

/**
 * A task that waits until `check` holds, looking every `pollMs` (default 30 s) on the scheduler's clock, and
 * fails after `timeoutMs` (default 1 h): its downstream tasks run only once the condition held.
 * @example .task('wait-drop', sensorTask(fileExists(({ partition }) => `drop/${partition}.jsonl`), { pollMs: 60_000 }))
 */
export function sensorTask(check: SensorCheck, opts: { pollMs?: number; timeoutMs?: number } = {}): TaskAction {
  const pollMs = opts.pollMs ?? 30_000
  const timeoutMs = opts.timeoutMs ?? 3_600_000
  return {
    kind: 'function',
    fn: async (ctx: TaskContext) => {
      const started = ctx.now()
      for (;;) {
        if (await check(ctx)) return
        if (ctx.signal.aborted) return
        if (ctx.now() - started >= timeoutMs) {
          throw new SluiceError('SLUICE_WORKFLOW_SENSOR_TIMEOUT', `sensor '${ctx.task}' still waiting after ${timeoutMs} ms`, { domain: 'user', step: ctx.task, position: ctx.partition })
        }
        await ctx.sleep(pollMs)
      }
    },
  }
}

/**
 * Holds once a file exists (its path computed from the run: partition, params).
 * @example fileExists(({ partition }) => `drop/${partition}.jsonl`)
 */
export function fileExists(path: (ctx: TaskContext) => string): SensorCheck {
  return (ctx) => existsSync(path(ctx))
}

/**
 * Holds once another workflow's task succeeded for a partition (by default the same key), as recorded in the
 * same store.
 * @example upstreamSucceeded('hourly-page-views', 'publish', ({ params }) => params.start!.slice(0, 13))
 */
export function upstreamSucceeded(workflow: string, task: string, partition?: (ctx: TaskContext) => string): SensorCheck {
  return (ctx) => ctx.runStatus(workflow, task, partition ? partition(ctx) : ctx.partition) === 'succeeded'
}

/**
 * Holds once a dataset was updated at or after a time: `lastUpdated` is the pluggable lookup (a file's mtime, a
 * catalog entry, a table's max timestamp), `notBefore` the time it must reach (default: the partition's end).
 * @example fresherThan(async () => (await stat('out/views.duckdb')).mtimeMs)
 */
export function fresherThan(lastUpdated: (ctx: TaskContext) => number | undefined | Promise<number | undefined>, notBefore?: (ctx: TaskContext) => number): SensorCheck {
  return async (ctx) => {
    const at = await lastUpdated(ctx)
    const need = notBefore ? notBefore(ctx) : ctx.params.end !== undefined ? Date.parse(ctx.params.end) : ctx.now()
    return at !== undefined && at >= need
  }
}
