import { readFileSync } from 'node:fs'

/** How long a stopped command's process group has after SIGTERM before it gets SIGKILL. */
export const STOP_GRACE_MS = 5_000

/** The environment by which a shell task's process is known again: see `isTaskProcess`. */
export function taskProcessEnv(run: { workflow: string; task: string; partition: string; attempt: number }): Record<string, string> {
  return { SLUICE_WORKFLOW: run.workflow, SLUICE_TASK: run.task, SLUICE_PARTITION: run.partition, SLUICE_ATTEMPT: String(run.attempt) }
}

/** Sends `signal` to every process of the group; false when none is left. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether `pid` is still the shell task's process started for this attempt: its environment (Linux
 * `/proc/<pid>/environ`) holds the attempt's `SLUICE_*` values. A pid that now belongs to another process, one
 * that is gone, or a system without `/proc` reads as false, so nothing else is ever stopped.
 */
export function isTaskProcess(pid: number, run: { workflow: string; task: string; partition: string; attempt: number }): boolean {
  let env: string
  try {
    env = readFileSync(`/proc/${pid}/environ`, 'utf8')
  } catch {
    return false
  }
  const vars = new Set(env.split('\u0000'))
  return Object.entries(taskProcessEnv(run)).every(([k, v]) => vars.has(`${k}=${v}`))
}

/**
 * Stops what a scheduler that died left running of a shell task (a SIGKILL does not reach the command's own
 * process group): the group gets SIGKILL, if its leader is still the attempt's process. Returns whether it did.
 */
export function stopLeftOver(pid: number, run: { workflow: string; task: string; partition: string; attempt: number }): boolean {
  if (!isTaskProcess(pid, run)) return false
  return signalGroup(pid, 'SIGKILL')
}
