import { spawn } from 'node:child_process'
import { SluiceError } from '../core/errors.ts'
import { run } from '../runtime/run.ts'
import type { TaskAction, TaskContext } from './task.ts'
import type { LineageTransport } from '../lineage/transport.ts'
import type { ParentRun } from '../lineage/openlineage.ts'
import { taskRun } from './lineage.ts'

/** Runs one attempt of a task; resolves when it succeeded, rejects with why it failed. */
export async function executeTask(action: TaskAction, ctx: TaskContext): Promise<void> {
  if (action.kind === 'function') {
    await action.fn(ctx)
    return
  }
  if (action.kind === 'pipeline') {
    // An abort (timeout, cancel) stops the pipeline gracefully; the scheduler records the attempt's outcome.
    await run(action.build({ params: ctx.params }), { signal: ctx.signal, lineage: taskLineage(ctx) })
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
        ...(typeof ctx.lineage === 'string' && process.env.SLUICE_LINEAGE === undefined ? { SLUICE_LINEAGE: ctx.lineage } : {}),
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
 * task, partition and attempt) with the partition's workflow run as root, the partition's interval as its
 * nominal time, and the scheduler's lineage target when it has one.
 */
export function taskLineage(ctx: TaskContext): { parent: ParentRun; nominalTime?: { start: string; end?: string }; transport?: string | LineageTransport } {
  const parent = taskRun(ctx.workflow, ctx.task, ctx.partition, ctx.attempt)
  const start = ctx.params.start
  return {
    parent,
    ...(start !== undefined && start !== '' ? { nominalTime: { start, ...(ctx.params.end ? { end: ctx.params.end } : {}) } } : {}),
    ...(ctx.lineage !== undefined ? { transport: ctx.lineage } : {}),
  }
}
