import type { Clock } from '../core/clock.ts'
import { userError } from '../core/errors.ts'
import { END, type Source, type SourceOptions, type SourceRead, type SourceReader } from '../core/source.ts'
import type { WatermarkStrategy } from '../time/watermark.ts'

/**
 * One input of a pipeline under a PipelineHarness, in place of its source: records the test pushes wait here
 * until the executor reads them; the watermark is the one the test sets, never derived from event times.
 *
 * The executor's loop is observed through the reads: a read that finds nothing queued comes after everything
 * read before it has gone through the graph (the loop handles a batch to its end before it reads again), so
 * the harness counts them (`emptyReads`) to know when the pipeline has settled. Such a read parks on a promise
 * until the harness wakes it; while `fenced` (a barrier asked for, which waits for reads in flight), it
 * returns by itself a moment later instead.
 */
export class TestInput {
  /** The input's name: its source step's id. */
  readonly name: string
  /** The watermark the test set (-Infinity before the first). */
  watermark = -Infinity
  /** The test ended this input: once its queue is read, the source ends. */
  ended = false
  /** Reads that find nothing queued return by themselves, without waiting to be woken (see the class comment). */
  fenced = false
  /** Reads that found nothing queued so far. */
  emptyReads = 0
  private readonly values: unknown[] = []
  private readonly times: (number | undefined)[] = []
  /** Records read so far, this run's and those before the restored snapshot: the source's position. */
  private read = 0
  private parked: ((r: null) => void) | undefined
  /** Event times of the batch being read, by record (a contract on the input may drop some). */
  private stamps = new Map<unknown, number[]>()
  private readonly eventTime: ((value: unknown) => number) | undefined
  private readonly clock: Clock
  private readonly onTurn: () => void

  constructor(name: string, clock: Clock, eventTime: ((value: unknown) => number) | undefined, onTurn: () => void) {
    this.name = name
    this.clock = clock
    this.eventTime = eventTime
    this.onTurn = onTurn
  }

  /** Queues records; `time` undefined: the input's event-time function gives it, else the clock. */
  push(values: readonly unknown[], times: readonly (number | undefined)[]): void {
    this.values.push(...values)
    this.times.push(...times)
  }

  /** A parked read returns (with nothing), so the executor goes round its loop. */
  wake(): void {
    const p = this.parked
    this.parked = undefined
    p?.(null)
  }

  /** The source the pipeline reads in place of the original: options as the original's, time from the test. */
  source(original: SourceOptions<unknown>): Source<unknown> {
    const strategy: WatermarkStrategy = {
      kind: 'test-input',
      describe: { kind: 'test-input' },
      create: () => ({
        onEvent: () => {},
        current: () => this.watermark,
        snapshot: () => this.watermark,
        restore: (s) => {
          if (typeof s === 'number' && s > this.watermark) this.watermark = s
        },
      }),
    }
    const options: SourceOptions<unknown> = { ...original, eventTime: (v) => this.stamp(v), watermark: strategy, maxFutureSkew: original.maxFutureSkew ?? false }
    delete options.idleTimeout
    return { kind: 'test-input', bounded: false, options, describe: () => ({ kind: 'test-input', input: this.name }), open: () => this.reader() }
  }

  private reader(): SourceReader<unknown> {
    return {
      partitions: 1,
      read: (_p, max) => this.next(max),
      positions: () => [this.read],
      seek: (positions) => {
        this.read = Number(positions[0] ?? 0)
      },
      close: () => this.wake(),
    }
  }

  private next(max: number): SourceRead<unknown> | Promise<SourceRead<unknown>> {
    if (this.values.length > 0) {
      const values = this.values.splice(0, max)
      const times = this.times.splice(0, values.length)
      this.stamps = new Map()
      for (let i = 0; i < values.length; i++) {
        const t = times[i]
        if (t === undefined) continue
        const l = this.stamps.get(values[i])
        if (l === undefined) this.stamps.set(values[i], [t])
        else l.push(t)
      }
      const pos = values.map((_, i) => `${this.name}:${this.read + i}`)
      this.read += values.length
      return { values, times: [], pos }
    }
    if (this.ended) return END
    this.emptyReads++
    this.onTurn()
    // While fenced, the read returns soon by itself (at once would have the loop spin while the barrier is written).
    if (this.fenced) return new Promise((resolve) => setTimeout(resolve, 1, null))
    return new Promise((resolve) => (this.parked = resolve))
  }

  private stamp(value: unknown): number {
    const t = this.stamps.get(value)?.shift()
    if (t !== undefined) return t
    return this.eventTime !== undefined ? this.eventTime(value) : this.clock.now()
  }
}

/**
 * Where a harness's building function reads input `name`: a source that the harness replaces with a TestInput.
 * Opened outside a harness, it says so.
 */
export function inputPlaceholder<T>(name: string, options: SourceOptions<T>): Source<T> {
  return {
    kind: 'test-input',
    bounded: false,
    options,
    describe: () => ({ kind: 'test-input', input: name }),
    open: () => {
      throw userError('SLUICE_BAD_ARGUMENT', `test input '${name}' is read only by the PipelineHarness that built it`, { hint: 'run the pipeline with PipelineHarness.start' })
    },
  }
}
