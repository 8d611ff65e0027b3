import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { errorMessage } from '../core/errors.ts'
import type { CheckpointStats } from './manifest.ts'

/** A request from `sluice savepoint` to a running job, through files in its checkpoint folder. */
export interface ControlRequest {
  file: string
  target: string
  stop: boolean
}

/** What a request file asks for: a savepoint (`{ target, stop }`) or a checkpoint (`{ checkpoint: true }`). */
export type ControlRequestBody = { kind: 'savepoint'; target: string; stop: boolean } | { kind: 'checkpoint' }

const POLL_MS = 250

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

/**
 * Requests to a running job (take a savepoint, optionally stop after it) arrive as files in
 * `<checkpoint-dir>/control/`: `<name>.request` holds `{ target, stop }`; the job answers with
 * `<name>.done` (the savepoint's stats) or `<name>.failed` (the error). No server, no port.
 */
export class ControlRequests {
  readonly dir: string
  private lastPoll = 0

  constructor(checkpointDir: string) {
    this.dir = controlFolder(checkpointDir)
  }

  /** A pending request, checked at most every 250 ms. */
  poll(): ControlRequest | undefined {
    const now = performance.now()
    if (now - this.lastPoll < POLL_MS) return undefined
    this.lastPoll = now
    const file = pendingRequests(this.dir)[0]
    if (file === undefined) return undefined
    try {
      const body = readRequest(file)
      if (body.kind !== 'savepoint') throw new Error('this runner serves savepoint requests only')
      return { file, target: body.target, stop: body.stop }
    } catch (e) {
      answerRequest(file, 'failed', { error: `bad request: ${errorMessage(e)}` })
      return undefined
    }
  }

  async answer(req: ControlRequest, take: () => Promise<CheckpointStats>): Promise<void> {
    try {
      const stats = await take()
      answerRequest(req.file, 'done', { ...stats, target: req.target })
    } catch (e) {
      answerRequest(req.file, 'failed', { error: errorMessage(e) })
    }
  }
}
