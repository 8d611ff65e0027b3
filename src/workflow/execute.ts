import { spawn } from 'node:child_process'
import type { Writable } from 'node:stream'
import { failpoint } from '../core/failpoints.ts'
import { SluiceError } from '../core/errors.ts'
import { run } from '../runtime/run.ts'
import type { TaskAction, TaskContext } from './task.ts'
import type { LineageTransport } from '../lineage/transport.ts'
import type { ParentRun } from '../lineage/openlineage.ts'
import { taskRun } from './lineage.ts'
import { signalGroup, STOP_GRACE_MS, taskProcessEnv } from './process-group.ts'

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

/**
 * The shell that runs a task's command (`$0`) only once the scheduler says so on descriptor 3: if the scheduler
 * dies before it has noted the process group, the descriptor closes unanswered and the command never starts.
 */
const GATED = 'IFS= read -r go <&3 || exit 125; exec 3<&-; exec /bin/sh -c "$0"'

/**
 * Runs the command in a process group of its own, so that a cancel or a timeout stops all it started (SIGTERM
 * to the group, SIGKILL after a grace), and a scheduler that dies leaves a group the next one can stop. The
 * command starts only once its group is noted in the store (see `GATED`), so no scheduler can die leaving a
 * command the next one does not know of.
 */
function runShell(command: string, cwd: string | undefined, ctx: TaskContext): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(stopped(ctx))
    const child = spawn('/bin/sh', ['-c', GATED, command], {
      cwd,
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: {
        ...process.env,
        ...taskProcessEnv({ workflow: ctx.workflow, task: ctx.task, partition: ctx.partition, attempt: ctx.attempt }),
        SLUICE_PARTITION_START: ctx.params.start ?? '',
        SLUICE_PARTITION_END: ctx.params.end ?? '',
        SLUICE_LINEAGE_PARENT: JSON.stringify(taskLineage(ctx).parent),
        // `sluice run` in the command sends its events where the scheduler sends its own.
        ...(typeof ctx.lineage === 'string' ? { SLUICE_LINEAGE: ctx.lineage } : {}),
      },
    })
    const pgid = child.pid
    const gate = child.stdio[3] as Writable
    gate.on('error', () => {}) // a shell that is gone already: its exit says what happened
    failpoint('workflow-after-spawn')
    try {
      if (pgid !== undefined) ctx.startedProcess?.(pgid)
    } catch (e) {
      gate.destroy()
      return reject(e)
    }
    gate.end('go\n')
    let stopping: Promise<void> | undefined
    const onAbort = (): void => {
      if (pgid !== undefined) stopping = stopGroup(pgid)
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (e) => {
      ctx.signal.removeEventListener('abort', onAbort)
      reject(e)
    })
    child.on('exit', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort)
      const settle = (): void => {
        if (code === 0) resolve()
        else if (ctx.signal.aborted) reject(stopped(ctx))
        else reject(new SluiceError('SLUICE_WORKFLOW_TASK_FAILED', `task '${ctx.task}' command exited with ${code ?? signal}`, { step: ctx.task, position: ctx.partition }))
      }
      // Once aborted, the attempt ends when the whole group is gone, not only the shell.
      if (stopping !== undefined) void stopping.then(settle)
      else settle()
    })
  })
}

function stopped(ctx: TaskContext): SluiceError {
  return new SluiceError('SLUICE_WORKFLOW_TASK_FAILED', `task '${ctx.task}' command was stopped`, { step: ctx.task, position: ctx.partition })
}

/** SIGTERM to the group, SIGKILL to what is left after the grace; resolves when no process of it is left (or after the SIGKILL). */
async function stopGroup(pgid: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return
  const until = Date.now() + STOP_GRACE_MS
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50))
    if (!signalGroup(pgid, 0)) return
  }
  signalGroup(pgid, 'SIGKILL')
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
