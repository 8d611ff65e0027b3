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

const POLL_MS = 250

/**
 * Requests to a running job (take a savepoint, optionally stop after it) arrive as files in
 * `<checkpoint-dir>/control/`: `<name>.request` holds `{ target, stop }`; the job answers with
 * `<name>.done` (the savepoint's stats) or `<name>.failed` (the error). No server, no port.
 */
export class ControlRequests {
  readonly dir: string
  private lastPoll = 0

  constructor(checkpointDir: string) {
    this.dir = join(checkpointDir, 'control')
  }

  /** A pending request, checked at most every 250 ms. */
  poll(): ControlRequest | undefined {
    const now = performance.now()
    if (now - this.lastPoll < POLL_MS) return undefined
    this.lastPoll = now
    if (!existsSync(this.dir)) return undefined
    const name = readdirSync(this.dir).filter((n) => n.endsWith('.request')).sort()[0]
    if (name === undefined) return undefined
    const file = join(this.dir, name)
    try {
      const body = JSON.parse(readFileSync(file, 'utf8')) as { target?: unknown; stop?: unknown }
      if (typeof body.target !== 'string') throw new Error('the request names no target folder')
      return { file, target: body.target, stop: body.stop === true }
    } catch (e) {
      this.reply(file, 'failed', { error: `bad request: ${errorMessage(e)}` })
      return undefined
    }
  }

  async answer(req: ControlRequest, take: () => Promise<CheckpointStats>): Promise<void> {
    try {
      const stats = await take()
      this.reply(req.file, 'done', { ...stats, target: req.target })
    } catch (e) {
      this.reply(req.file, 'failed', { error: errorMessage(e) })
    }
  }

  private reply(requestFile: string, outcome: 'done' | 'failed', body: unknown): void {
    const base = requestFile.slice(0, -'.request'.length)
    writeFileSync(`${base}.${outcome}.tmp`, JSON.stringify(body))
    renameSync(`${base}.${outcome}.tmp`, `${base}.${outcome}`)
    renameSync(requestFile, `${base}.handled`)
  }
}
