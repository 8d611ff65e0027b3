import { mkdirSync } from 'node:fs'
import { answerRequest, controlFolder, pendingRequests, readRequest } from '../../checkpoint/control.ts'
import { errorMessage } from '../../core/errors.ts'
import type { ControlChannel, JobHandle } from './types.ts'

export interface FileControlOptions {
  /** How often the folder is looked at, in ms. Default 250. */
  intervalMs?: number
  /** Where a folder that cannot be read is reported (once per distinct problem). Default console.warn. */
  warn?: (msg: string) => void
}

/**
 * Serves requests left as files in `<checkpoint-dir>/control/` (what `sluice savepoint` writes) through a job's
 * handle: `<name>.request` holding `{ target, stop }` takes a savepoint (and stops after it with `stop`),
 * `{ "checkpoint": true }` takes a checkpoint, `{ "stop": true }` stops the job gracefully (answered once the
 * stop is under way, with the status); the answer is `<name>.done` with the stats or `<name>.failed`
 * with `{ error }`, and the request becomes `<name>.handled`. One request at a time, oldest name first. The
 * folder exists from the moment the channel does; the channel stops looking when the job ends, leaving
 * later requests for the next run.
 * @example
 * const channel = new FileControlChannel(handle, 'state/clicks')
 * await handle.done
 * await channel.close()
 */
export class FileControlChannel implements ControlChannel {
  readonly dir: string
  private readonly handle: JobHandle
  private readonly warn: (msg: string) => void
  private readonly timer: NodeJS.Timeout
  private readonly unsubscribe: () => void
  private serving: Promise<void> | undefined
  private closed = false
  private lastWarning = ''
  /** Requests taken already: one whose answer could not be written is not served twice. */
  private readonly taken = new Set<string>()

  constructor(handle: JobHandle, checkpointDir: string, opts: FileControlOptions = {}) {
    this.handle = handle
    this.dir = controlFolder(checkpointDir)
    this.warn = opts.warn ?? ((msg) => console.warn(msg))
    mkdirSync(this.dir, { recursive: true })
    this.timer = setInterval(() => this.look(), opts.intervalMs ?? 250)
    // Looking for requests never keeps the process alive on its own.
    this.timer.unref()
    this.unsubscribe = handle.on((e) => {
      if (e.type === 'status' && (e.status === 'finished' || e.status === 'stopped' || e.status === 'failed' || e.status === 'cancelled')) void this.close()
    })
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      clearInterval(this.timer)
      this.unsubscribe()
    }
    await this.serving
  }

  private look(): void {
    if (this.closed || this.serving !== undefined) return
    let file: string | undefined
    try {
      file = pendingRequests(this.dir).find((f) => !this.taken.has(f))
    } catch (e) {
      return this.report(`cannot read the control folder '${this.dir}': ${errorMessage(e)}`)
    }
    if (file === undefined) return
    this.taken.add(file)
    this.serving = this.serve(file).finally(() => (this.serving = undefined))
  }

  private async serve(file: string): Promise<void> {
    let request: ReturnType<typeof readRequest>
    try {
      request = readRequest(file)
    } catch (e) {
      return this.answer(file, 'failed', { error: `bad request: ${errorMessage(e)}` })
    }
    try {
      if (request.kind === 'checkpoint') {
        this.answer(file, 'done', await this.handle.checkpoint())
      } else if (request.kind === 'stop') {
        await this.stopping()
        this.answer(file, 'done', { status: this.handle.status().status })
      } else {
        const stats = await this.handle.savepoint(request.target, { stop: request.stop })
        this.answer(file, 'done', { ...stats, target: request.target })
      }
    } catch (e) {
      this.answer(file, 'failed', { error: errorMessage(e) })
    }
  }

  /** Asks for a graceful stop and resolves once it is under way (or the job has ended), not at its end. */
  private stopping(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const under = (): boolean => !['starting', 'running'].includes(this.handle.status().status)
      if (under()) return resolve()
      const off = this.handle.on(() => {
        if (!under()) {
          off()
          resolve()
        }
      })
      this.handle.stop().catch((e: unknown) => {
        off()
        if (under()) resolve()
        else reject(e)
      })
    })
  }

  private answer(file: string, outcome: 'done' | 'failed', body: unknown): void {
    try {
      answerRequest(file, outcome, body)
    } catch (e) {
      this.report(`cannot answer the control request '${file}': ${errorMessage(e)}`)
    }
  }

  private report(msg: string): void {
    if (msg === this.lastWarning) return
    this.lastWarning = msg
    this.warn(msg)
  }
}
