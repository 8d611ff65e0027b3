import { spawn } from 'node:child_process'
import { SluiceError } from '../core/errors.ts'
import { run } from '../runtime/run.ts'
import type { TaskAction, TaskContext } from './task.ts'
import { createHash } from 'node:crypto'
import type { ParentRun } from '../lineage/openlineage.ts'

/** Runs one attempt of a task; resolves when it succeeded, rejects with why it failed. */
export async function executeTask(action: TaskAction, ctx: TaskContext): Promise<void> {
  if (action.kind === 'function') {
    await action.fn(ctx)
    return
  }
  if (action.kind === 'pipeline') {
    const summary = await run(action.build({ params: ctx.params }), { signal: ctx.signal, lineage: taskLineage(ctx) })
    void summary
    return
  }
  await runShell(action.command, action.cwd, ctx)
}

function runShell(command: string, cwd: string | undefined, ctx: TaskContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      signal: ctx.signal,
      env: {
        ...process.env,
        SLUICE_WORKFLOW: ctx.workflow,
        SLUICE_TASK: ctx.task,
        SLUICE_PARTITION: ctx.partition,
        SLUICE_PARTITION_START: ctx.params.start ?? '',
        SLUICE_PARTITION_END: ctx.params.end ?? '',
        SLUICE_ATTEMPT: String(ctx.attempt),
        SLUICE_LINEAGE_PARENT: JSON.stringify(taskLineage(ctx).parent),
      },
    })
    child.on('error', (e) => reject(e))
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new SluiceError('SLUICE_WORKFLOW_TASK_FAILED', `task '${ctx.task}' command exited with ${code ?? signal}`, { step: ctx.task, position: ctx.partition }))
    })
  })
}

/**
 * What a pipeline started by a task tells lineage: the task's run as its parent (a stable id per workflow,
 * task, partition and attempt) and the partition's interval as its nominal time.
 */
export function taskLineage(ctx: TaskContext): { parent: ParentRun; nominalTime?: { start: string; end?: string } } {
  const h = createHash('sha256').update(`${ctx.workflow}\u0000${ctx.task}\u0000${ctx.partition}\u0000${ctx.attempt}`).digest('hex')
  const runId = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
  const parent: ParentRun = { runId, job: { namespace: process.env.SLUICE_LINEAGE_NAMESPACE ?? 'sluice', name: `${ctx.workflow}.${ctx.task}` } }
  const start = ctx.params.start
  return { parent, ...(start !== undefined && start !== '' ? { nominalTime: { start, ...(ctx.params.end ? { end: ctx.params.end } : {}) } } : {}) }
}
