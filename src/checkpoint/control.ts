import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

// Requests to a running job travel as files in `<checkpoint-dir>/control/`: `<name>.request` holds what is
// asked, the job answers with `<name>.done` or `<name>.failed` and renames the request `<name>.handled`. No
// server, no port: the job's FileControlChannel serves them through its handle.

/**
 * What a request file asks for: a savepoint (`{ target, stop }`), a checkpoint (`{ checkpoint: true }`) or a
 * graceful stop (`{ stop: true }`).
 */
export type ControlRequestBody = { kind: 'savepoint'; target: string; stop: boolean } | { kind: 'checkpoint' } | { kind: 'stop' }

/** The folder of control requests of the job checkpointing into `checkpointDir`. */
export function controlFolder(checkpointDir: string): string {
  return join(checkpointDir, 'control')
}

/** The request files waiting in a control folder, oldest name first; none if the folder does not exist. */
export function pendingRequests(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((n) => n.endsWith('.request'))
    .sort()
    .map((n) => join(dir, n))
}

/** Reads a request file; throws with what is wrong with it. */
export function readRequest(file: string): ControlRequestBody {
  const body = JSON.parse(readFileSync(file, 'utf8')) as { target?: unknown; stop?: unknown; checkpoint?: unknown }
  if (body.checkpoint === true) return { kind: 'checkpoint' }
  if (body.target === undefined && body.stop === true) return { kind: 'stop' }
  if (typeof body.target !== 'string') throw new Error('the request names no target folder')
  return { kind: 'savepoint', target: body.target, stop: body.stop === true }
}

/** Answers a request: `<name>.done` (the stats) or `<name>.failed` (`{ error }`), written atomically; the request becomes `<name>.handled`. */
export function answerRequest(requestFile: string, outcome: 'done' | 'failed', body: unknown): void {
  const base = requestFile.slice(0, -'.request'.length)
  writeFileSync(`${base}.${outcome}.tmp`, JSON.stringify(body))
  renameSync(`${base}.${outcome}.tmp`, `${base}.${outcome}`)
  renameSync(requestFile, `${base}.handled`)
}

/** Leaves a request for the job checkpointing into `checkpointDir` (written atomically); returns its file. */
export function writeRequest(checkpointDir: string, name: string, body: { target: string; stop: boolean } | { checkpoint: true } | { stop: true }): string {
  const dir = controlFolder(checkpointDir)
  mkdirSync(dir, { recursive: true })
  const base = join(dir, name)
  writeFileSync(`${base}.tmp`, JSON.stringify(body))
  renameSync(`${base}.tmp`, `${base}.request`)
  return `${base}.request`
}

/**
 * Waits for the answer to a request: `{ done }` with the job's answer, `{ failed }` with its error, or undefined
 * once `deadline` (epoch ms) has passed with no answer.
 */
export async function awaitAnswer(requestFile: string, deadline: number, pollMs = 100): Promise<{ done: unknown } | { failed: string } | undefined> {
  const base = requestFile.slice(0, -'.request'.length)
  while (Date.now() < deadline) {
    if (existsSync(`${base}.done`)) return { done: JSON.parse(readFileSync(`${base}.done`, 'utf8')) as unknown }
    if (existsSync(`${base}.failed`)) return { failed: (JSON.parse(readFileSync(`${base}.failed`, 'utf8')) as { error: string }).error }
    await sleep(pollMs)
  }
  return undefined
}
