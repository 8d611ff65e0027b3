import { mkdirSync } from 'node:fs'
import { answerRequest, controlFolder, pendingRequests, readRequest } from '../../checkpoint/control.ts'
import { isS3Url } from '../../checkpoint/s3-location.ts'
import { smallObjects, type SmallObjects } from '../../checkpoint/small-objects.ts'
import { errorMessage } from '../../core/errors.ts'
import type { ControlChannel, JobHandle } from './types.ts'

export interface ControlChannelOptions {
  /** How often the requests are looked for, in ms. Default 250 (1000 in a bucket). */
  intervalMs?: number
  /** Where requests that cannot be read are reported (once per distinct problem). Default console.warn. */
  warn?: (msg: string) => void
  /** Done before a stop request is answered (the Kafka runner notes the stop for every later run). */
  beforeStopAnswer?: () => Promise<void>
}

/**
 * Serves requests left in `control/` beside a job's checkpoints (what `sluice savepoint` and `sluice stop` write:
 * files in a checkpoint folder, objects under an `s3://bucket/prefix`) through the job's handle: `<name>.request` holding `{ target, stop }` takes a savepoint (and stops after it with `stop`),
 * `{ "checkpoint": true }` takes a checkpoint, `{ "stop": true }` stops the job gracefully (answered once the
 * stop is under way, with the status); the answer is `<name>.done` with the stats or `<name>.failed`
 * with `{ error }`, and the request becomes `<name>.handled`. One request at a time, oldest name first. A
 * folder's `control/` exists from the moment the channel does; the channel stops looking when the job ends,
 * leaving later requests for the next run.
 * @example
 * const channel = new ControlRequestChannel(handle, 'state/clicks')
 * await handle.done
 * await channel.close()
 */
export class ControlRequestChannel implements ControlChannel {
  readonly dir: string
  private readonly notes: SmallObjects
  private readonly beforeStopAnswer: (() => Promise<void>) | undefined
  private readonly handle: JobHandle
  private readonly warn: (msg: string) => void
  private readonly timer: NodeJS.Timeout
  private readonly unsubscribe: () => void
  private serving: Promise<void> | undefined
  private closed = false
  private lastWarning = ''
  /** Requests taken already: one whose answer could not be written is not served twice. */
  private readonly taken = new Set<string>()

  constructor(handle: JobHandle, checkpointDir: string, opts: ControlChannelOptions = {}) {
    this.handle = handle
    this.dir = controlFolder(checkpointDir)
    this.notes = smallObjects(checkpointDir)
    this.beforeStopAnswer = opts.beforeStopAnswer
    this.warn = opts.warn ?? ((msg) => console.warn(msg))
    const bucket = isS3Url(checkpointDir)
    if (!bucket) mkdirSync(this.dir, { recursive: true })
    this.timer = setInterval(() => this.look(), opts.intervalMs ?? (bucket ? 1000 : 250))
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
    this.notes.close()
  }

  private look(): void {
    if (this.closed || this.serving !== undefined) return
    this.serving = this.next().finally(() => (this.serving = undefined))
  }

  /** Serves the oldest request not taken yet, if any. */
  private async next(): Promise<void> {
    let file: string | undefined
    try {
      file = (await pendingRequests(this.notes)).find((f) => !this.taken.has(f))
    } catch (e) {
      return this.report(`cannot read the control requests in '${this.dir}': ${errorMessage(e)}`)
    }
    if (file === undefined || this.closed) return
    this.taken.add(file)
    await this.serve(file)
  }

  private async serve(file: string): Promise<void> {
    let request: Awaited<ReturnType<typeof readRequest>>
    try {
      request = await readRequest(this.notes, file)
    } catch (e) {
      return this.answer(file, 'failed', { error: `bad request: ${errorMessage(e)}` })
    }
    try {
      if (request.kind === 'checkpoint') {
        return await this.answer(file, 'done', await this.handle.checkpoint())
      } else if (request.kind === 'stop') {
        await this.stopping()
        await this.beforeStopAnswer?.()
        return await this.answer(file, 'done', { status: this.handle.status().status })
      } else {
        const stats = await this.handle.savepoint(request.target, { stop: request.stop })
        return await this.answer(file, 'done', { ...stats, target: request.target })
      }
    } catch (e) {
      return this.answer(file, 'failed', { error: errorMessage(e) })
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

  private async answer(file: string, outcome: 'done' | 'failed', body: unknown): Promise<void> {
    try {
      await answerRequest(this.notes, file, outcome, body)
    } catch (e) {
      this.report(`cannot answer the control request '${file}' in '${this.notes.where}': ${errorMessage(e)}`)
    }
  }

  private report(msg: string): void {
    if (msg === this.lastWarning) return
    this.lastWarning = msg
    this.warn(msg)
  }
}
