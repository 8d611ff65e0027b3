import { spawn } from 'node:child_process'
import { SluiceError } from '../core/errors.ts'
import { run } from '../runtime/run.ts'
import type { TaskAction, TaskContext } from './task.ts'

/** Runs one attempt of a task; resolves when it succeeded, rejects with why it failed. */
export async function executeTask(action: TaskAction, ctx: TaskContext): Promise<void> {
  if (action.kind === 'function') {
    await action.fn(ctx)
    return
  }
  if (action.kind === 'pipeline') {
    const summary = await run(action.build({ params: ctx.params }), { signal: ctx.signal })
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
      },
    })
    child.on('error', (e) => reject(e))
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new SluiceError('SLUICE_WORKFLOW_TASK_FAILED', `task '${ctx.task}' command exited with ${code ?? signal}`, { step: ctx.task, position: ctx.partition }))
    })
  })
}
