import { setTimeout as sleep } from 'node:timers/promises'
import type { SmallObjects } from './small-objects.ts'

// Requests to a running job travel as notes in `control/` beside its checkpoints (files in a checkpoint folder,
// objects under an `s3://bucket/prefix`): `<name>.request` holds what is asked, the job answers with
// `<name>.done` or `<name>.failed` and renames the request `<name>.handled`. No server, no port: the job's
// ControlRequestChannel serves them through its handle.

/**
 * What a request asks for: a savepoint (`{ target, stop }`), a checkpoint (`{ checkpoint: true }`) or a
 * graceful stop (`{ stop: true }`).
 */
export type ControlRequestBody = { kind: 'savepoint'; target: string; stop: boolean } | { kind: 'checkpoint' } | { kind: 'stop' }

/** The folder of control requests, relative to the checkpoint location. */
export const CONTROL = 'control'

/** Where the control requests of the job checkpointing into `checkpointDir` are (for messages). */
export function controlFolder(checkpointDir: string): string {
  return `${checkpointDir.replace(/\/+$/, '')}/${CONTROL}`
}

/** The names (`control/<name>.request`) of the requests waiting, oldest name first. */
export async function pendingRequests(notes: SmallObjects): Promise<string[]> {
  return (await notes.list(CONTROL)).filter((n) => n.endsWith('.request')).map((n) => `${CONTROL}/${n}`)
}

/** Reads a request; throws with what is wrong with it. */
export async function readRequest(notes: SmallObjects, request: string): Promise<ControlRequestBody> {
  const text = await notes.get(request)
  if (text === undefined) throw new Error('the request is gone')
  const body = JSON.parse(text) as { target?: unknown; stop?: unknown; checkpoint?: unknown }
  if (body.checkpoint === true) return { kind: 'checkpoint' }
  if (body.target === undefined && body.stop === true) return { kind: 'stop' }
  if (typeof body.target !== 'string') throw new Error('the request names no target folder')
  return { kind: 'savepoint', target: body.target, stop: body.stop === true }
}

const baseOf = (request: string): string => request.slice(0, -'.request'.length)

/** Answers a request: `<name>.done` (the stats) or `<name>.failed` (`{ error }`), written whole; the request becomes `<name>.handled`. */
export async function answerRequest(notes: SmallObjects, request: string, outcome: 'done' | 'failed', body: unknown): Promise<void> {
  await notes.put(`${baseOf(request)}.${outcome}`, JSON.stringify(body))
  await notes.rename(request, `${baseOf(request)}.handled`)
}

/** Leaves a request for the job checkpointing where `notes` are (written whole); returns its name. */
export async function writeRequest(notes: SmallObjects, name: string, body: { target: string; stop: boolean } | { checkpoint: true } | { stop: true }): Promise<string> {
  const request = `${CONTROL}/${name}.request`
  await notes.put(request, JSON.stringify(body))
  return request
}

/**
 * Waits for the answer to a request: `{ done }` with the job's answer, `{ failed }` with its error, or undefined
 * once `deadline` (epoch ms) has passed with no answer.
 */
export async function awaitAnswer(notes: SmallObjects, request: string, deadline: number, pollMs = 100): Promise<{ done: unknown } | { failed: string } | undefined> {
  while (Date.now() < deadline) {
    const done = await notes.get(`${baseOf(request)}.done`)
    if (done !== undefined) return { done: JSON.parse(done) as unknown }
    const failed = await notes.get(`${baseOf(request)}.failed`)
    if (failed !== undefined) return { failed: (JSON.parse(failed) as { error: string }).error }
    await sleep(pollMs)
  }
  return undefined
}
