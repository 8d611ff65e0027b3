import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import type { RunSummary } from '../run-types.ts'
import type { JobControl } from './control.ts'

/**
 * A stand-in for the runtime in tests of the job handle: a source the test feeds by hand, and a loop that
 * serves commands between batches the way the real runner does (waits for input or a command, checkpoints
 * on request, a last checkpoint when stopping gracefully, none when cancelled).
 */
export class FakeRunner {
  readonly control: JobControl
  records = 0
  checkpoints: CheckpointStats[] = []
  private pending = 0
  private inputEnded = false
  private failure: unknown
  private wakeUp: (() => void) | undefined

  /** The time between periodic checkpoints the job reports (the fake takes checkpoints only on request). */
  intervalMs = 60_000

  constructor(control: JobControl) {
    this.control = control
    control.wake = () => this.poke()
    control.checkpointing = { intervalMs: () => this.intervalMs, setIntervalMs: (ms) => (this.intervalMs = ms) }
  }

  /** Input arrives. */
  feed(n: number): void {
    this.pending += n
    this.poke()
  }

  /** Input ends. */
  end(): void {
    this.inputEnded = true
    this.poke()
  }

  /** The next batch fails. */
  fail(e: unknown): void {
    this.failure = e
    this.poke()
  }

  /** Runs until the job ends; resolves then (never rejects: the outcome is in the control). */
  async run(): Promise<void> {
    const c = this.control
    try {
      c.setStatus('running')
      let stop = false
      for (;;) {
        for (let cmd = c.next(); cmd !== undefined; cmd = c.next()) {
          if (cmd.kind === 'cancel') break
          if (cmd.kind === 'stop') {
            cmd.resolve()
            stop = true
            continue
          }
          const stats = this.take()
          c.checkpointCompleted(stats, cmd.kind === 'savepoint' ? { savepoint: cmd.target } : {})
          cmd.resolve(stats)
          if (cmd.stop === true) stop = true
        }
        if (c.signal.aborted) return c.cancelled()
        if (this.failure !== undefined) throw this.failure
        if (stop || (this.inputEnded && this.pending === 0)) {
          c.setStatus(stop ? 'stopping' : 'finishing')
          // Awaited like the real runner's final checkpoint: commands queued meanwhile are never served.
          await Promise.resolve()
          const stats = this.take()
          c.checkpointCompleted(stats)
          return c.finished(this.summary(stop ? 'stopped' : 'finished'))
        }
        if (this.pending > 0) {
          this.records += this.pending
          this.pending = 0
          await new Promise<void>((r) => setImmediate(r))
          continue
        }
        await new Promise<void>((r) => (this.wakeUp = r))
      }
    } catch (e) {
      c.failed(e)
    }
  }

  private poke(): void {
    const w = this.wakeUp
    this.wakeUp = undefined
    w?.()
  }

  private take(): CheckpointStats {
    const stats = { id: this.checkpoints.length + 1, bytes: 100 * (this.checkpoints.length + 1), syncMs: 1, asyncMs: 2, alignmentMs: 0 }
    this.checkpoints.push(stats)
    return stats
  }

  private summary(status: RunSummary['status']): RunSummary {
    return { pipeline: this.control.pipeline, status, parallelism: 1, wallMs: 0, cpuMs: 0, recordsIn: this.records, watermark: Infinity, steps: [], late: 0, errors: 0, dropped: 0 }
  }
}
