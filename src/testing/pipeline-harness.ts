import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pipeline, pipeline, type PipelineOptions } from '../api/pipeline.ts'
import { Stream } from '../api/stream.ts'
import { ManualClock } from '../core/clock.ts'
import { SluiceError, userError } from '../core/errors.ts'
import type { ErrorRecord } from '../core/operator.ts'
import type { SourceOptions } from '../core/source.ts'
import { collect, type CollectSink } from '../connectors/memory/collect-sink.ts'
import { scanDeadLetters, readDeadLetters } from '../dlq/reader.ts'
import type { DeadLetter } from '../dlq/record.ts'
import { defaultTopic } from '../runtime/attach-dead-letters.ts'
import { start } from '../runtime/run.ts'
import type { RunSummary } from '../runtime/run-types.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import { harnessPipeline } from './harness-pipeline.ts'
import type { HarnessRecord } from './operator-harness.ts'
import { inputPlaceholder, TestInput } from './test-input.ts'

/**
 * What a building function gets: the pipeline it builds on, and its inputs by name.
 * @example PipelineHarness.start((t) => t.input<Order>('orders').filter((o) => o.amount > 0))
 */
export interface HarnessBuilder {
  /** The pipeline the harness runs (named by the `pipeline` option, default 'harness'): for `errors()`, or sinks of its own. */
  readonly pipeline: Pipeline
  /**
   * A named input: the test pushes records into it. `options.eventTime` gives records pushed without a time
   * theirs (`pushValues`); the watermark is always the one the test sets.
   * @example const orders = t.input<Order>('orders', { eventTime: (o) => Date.parse(o.time) })
   */
  input<T>(name: string, options?: SourceOptions<T>): Stream<T>
}

/**
 * A record to push into an input, with its event time (epoch ms).
 * @example await h.push('clicks', [{ value: { user: 'a' }, time: 1_000 }])
 */
export interface TimedValue<T> {
  value: T
  time: number
}

/**
 * A harness's state at a point, to start another harness from (`PipelineHarness.start(build, { restore })`):
 * a savepoint of the job, and the time of the processing-time clock.
 * @example const snap = await h.snapshot(); const h2 = await PipelineHarness.start(build, { restore: snap })
 */
export interface HarnessSnapshot {
  /** The savepoint's folder (removed when the test process ends). */
  readonly dir: string
  /** The processing-time clock's time when it was taken. */
  readonly clock: number
}

/**
 * Options of `PipelineHarness.start`.
 * @example await PipelineHarness.start(build, { pipeline: { onError: 'error-output' }, clock: new ManualClock(Date.UTC(2024, 4, 1)) })
 */
export interface PipelineHarnessOptions {
  /** For a building function: the name (default 'harness') and options of the pipeline it builds on. */
  pipeline?: PipelineOptions & { name?: string }
  /** The processing-time clock (default a ManualClock at 0, or at the snapshot's time when restoring). */
  clock?: ManualClock
  /** Restore the job from a snapshot another harness took, and go on from there. */
  restore?: HarnessSnapshot
}

/**
 * What `start` runs: a pipeline, or a function that builds one on the harness's inputs (returning the stream
 * to record as sink `output`, or adding sinks itself).
 * @example const build: HarnessBuild = (t) => t.input<number>('numbers').map((n) => n * 2)
 */
export type HarnessBuild = Pipeline | ((t: HarnessBuilder) => Stream<any> | Pipeline | void)

// Folders of snapshots outlive the harness that took them, not the test process.
let snapshotRoot: string | undefined
const folders = new Set<string>()
process.once('exit', () => folders.forEach((d) => rmSync(d, { recursive: true, force: true })))

/**
 * Runs a whole pipeline on the real executor (parallelism 1, as `sluice run` does), with its inputs and time under
 * the test's control: push records with event times into named inputs, set watermarks, move a manual
 * processing-time clock, read what every sink received (changelog kinds included), snapshot the job and restore
 * the snapshot into a fresh harness, and see error records and dead letters. Each step resolves once the
 * pipeline has handled it to the end, so what a test reads never depends on timing.
 *
 * Every source of the pipeline is replaced by an input named by its step id (`.id('orders')`), every sink by a
 * recorder named by its step id (`.to(s, { id })`; `output` for the stream a building function returns). An
 * input's watermark moves only when the test sets it. With `SLUICE_TEST_STATE=durable` keyed state lives in the
 * durable backend (as with the operator harness).
 *
 * @example
 * const h = await PipelineHarness.start((t) => t.input<Click>('clicks').keyBy((c) => c.user).window(window.tumbling({ size: '1m' })).count())
 * await h.push('clicks', [{ value: { user: 'a' }, time: 5_000 }, { value: { user: 'a' }, time: 1_000 }])
 * await h.watermark(60_000)
 * h.values() // [{ key: 'a', start: 0, end: 60000, value: 2 }]
 * await h.close()
 */
export class PipelineHarness {
  /**
   * The running job: its metrics, status and events.
   * @example h.job.metrics().steps.map((s) => s.recordsIn)
   */
  readonly job: JobHandle
  /**
   * The processing-time clock the job runs on; `advanceProcessingTime` moves it.
   * @example h.clock.now() // the job's processing time
   */
  readonly clock: ManualClock
  private readonly name: string
  private readonly dir: string
  private readonly inputs: Map<string, TestInput>
  private readonly sinks: Map<string, CollectSink<unknown>>
  private readonly errorRecords: CollectSink<ErrorRecord>
  /** Under `onError: 'dead-letter'`: the harness's log folder and the topic. */
  private readonly letters: { dir: string; topic: string } | undefined
  private readonly taken = new Map<string, number>()
  private waiters: (() => void)[] = []
  private failure: unknown
  private ended: RunSummary | undefined
  private readonly over: Promise<void>
  private closed = false

  private constructor(build: HarnessBuild, opts: PipelineHarnessOptions) {
    this.clock = opts.clock ?? new ManualClock(opts.restore?.clock ?? 0)
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-harness-'))
    folders.add(this.dir)
    this.inputs = new Map()
    this.sinks = new Map()
    this.errorRecords = collect<ErrorRecord>()
    const p = built(build, opts.pipeline)
    const turned = (): void => this.turned()
    const run = harnessPipeline(p, this.dir, {
      source: (node, original) => {
        const input = new TestInput(node.id, this.clock, original.options.eventTime, turned)
        this.inputs.set(node.id, input)
        return input.source(original.options)
      },
      sink: (node) => {
        const c = collect<unknown>()
        this.sinks.set(node.id, c)
        return c
      },
      errors: this.errorRecords,
    })
    if (this.inputs.size === 0) throw userError('SLUICE_BAD_ARGUMENT', `pipeline '${p.name}' has no source for the harness to feed`, { hint: 'read an input: t.input(name) in a building function, or p.from(source) in a pipeline' })
    this.name = run.name
    const dl = run.options.deadLetter
    this.letters = run.options.onError === 'dead-letter' ? { dir: dl!.dir!, topic: dl!.topic ?? defaultTopic(run.name) } : undefined
    const checkpoint = { dir: join(this.dir, 'checkpoints'), intervalMs: 0, ...(opts.restore !== undefined ? { restoreFrom: opts.restore.dir } : {}) }
    // As the operator harness does, SLUICE_TEST_STATE=durable runs keyed state in the durable backend.
    const state = process.env.SLUICE_TEST_STATE === 'durable' ? { state: { backend: 'durable' as const, dir: join(this.dir, 'state') } } : {}
    this.job = start(run, { clock: this.clock, checkpoint, ...state })
    this.over = this.job.done.then(
      (s) => void (this.ended = s),
      (e: unknown) => void (this.failure = e),
    )
    void this.over.then(() => this.turned())
  }

  /**
   * Starts `build` (a pipeline, or a function that builds one on named inputs) and resolves once the job runs
   * and waits for input. Rejects as the job's start does (an incompatible snapshot, a missing option).
   * @example const h = await PipelineHarness.start((t) => revenuePerHour(t.input<Order>('orders')))
   */
  static async start(build: HarnessBuild, opts: PipelineHarnessOptions = {}): Promise<PipelineHarness> {
    const h = new PipelineHarness(build, opts)
    try {
      await h.settle()
    } catch (e) {
      await h.close()
      throw e
    }
    return h
  }

  /**
   * Pushes records with their event times into input `input`; resolves once the pipeline has handled them.
   * @example await h.push('orders', [{ value: order, time: Date.UTC(2024, 4, 1, 9) }])
   */
  async push<T>(input: string, records: readonly TimedValue<T>[]): Promise<this> {
    const i = this.input(input)
    if (!Array.isArray(records) || records.some((r) => r === null || typeof r !== 'object' || typeof r.time !== 'number' || !Number.isFinite(r.time))) {
      throw userError('SLUICE_BAD_ARGUMENT', `push('${input}'): records must be { value, time } with a finite time in epoch ms`, { hint: 'use pushValues(input, values) to take times from the input\'s eventTime' })
    }
    i.push(
      records.map((r) => r.value),
      records.map((r) => r.time),
    )
    await this.settle()
    return this
  }

  /**
   * Pushes values into input `input`, their event times from the input's `eventTime` (the pipeline's source
   * option), or the processing-time clock without one; resolves once the pipeline has handled them.
   * @example await h.pushValues('orders', [{ id: 'a', amount: 10, time: '2024-05-01T09:10:00Z' }])
   */
  async pushValues<T>(input: string, values: readonly T[]): Promise<this> {
    this.input(input).push(values, new Array<undefined>(values.length))
    await this.settle()
    return this
  }

  /**
   * Sets the watermark of input `input` (of every input without one) to `time`: no record at or before it is
   * expected there any more. Ignored where it is not ahead. Resolves once what it fires has reached the sinks.
   * @example await h.watermark(Date.UTC(2024, 4, 1, 10)) // windows ending by 10:00 fire
   */
  async watermark(time: number, input?: string): Promise<this> {
    for (const i of input === undefined ? this.inputs.values() : [this.input(input)]) if (time > i.watermark) i.watermark = time
    await this.settle()
    return this
  }

  /**
   * Moves the processing-time clock forward by `ms`; resolves once the timers that came due have fired.
   * @example await h.advanceProcessingTime(60_000)
   */
  async advanceProcessingTime(ms: number): Promise<this> {
    this.clock.advance(ms)
    await this.settle()
    return this
  }

  /**
   * Ends input `input` (every input without one): the pipeline reads what is queued, then that input ends. Once
   * all have ended the job finishes as at the end of a bounded input (watermark +∞, windows fire) and `summary`
   * holds its summary.
   * @example await h.end(); h.summary?.recordsIn
   */
  async end(input?: string): Promise<this> {
    for (const i of input === undefined ? this.inputs.values() : [this.input(input)]) i.ended = true
    await this.settle()
    return this
  }

  /**
   * The run's summary once the job has finished (every input ended); undefined before.
   * @example await h.end(); h.summary?.recordsIn
   */
  get summary(): RunSummary | undefined {
    return this.ended
  }

  /**
   * Everything sink `sink` has received so far (the only sink when there is one): values with their event time
   * and changelog kind.
   * @example assert.deepEqual(h.records('revenue').map((r) => r.kind), ['+I', '-U', '+U'])
   */
  records<T = unknown>(sink?: string): HarnessRecord<T>[] {
    return this.recorder(sink).records.slice() as HarnessRecord<T>[]
  }

  /**
   * The values sink `sink` has received so far (the only sink when there is one), changelog kinds dropped.
   * @example assert.deepEqual(h.values(), [{ key: 'a', start: 0, end: 60000, value: 2 }])
   */
  values<T = unknown>(sink?: string): T[] {
    return this.recorder(sink).values.slice() as T[]
  }

  /**
   * What sink `sink` (the only sink when there is one) has received since the last `take` of it.
   * @example await h.watermark(60_000); const fired = h.take()
   */
  take<T = unknown>(sink?: string): HarnessRecord<T>[] {
    const name = this.sinkName(sink)
    const all = this.sinks.get(name)!.records
    const from = this.taken.get(name) ?? 0
    this.taken.set(name, all.length)
    return all.slice(from) as HarnessRecord<T>[]
  }

  /**
   * The changelog sink `sink` received so far, applied: the rows as they stand (see `sink.collect().table`).
   * @example h.table('totals') // one row per key, its latest value
   */
  table<T = unknown>(sink?: string, identity?: (value: T) => unknown): T[] {
    return (this.recorder(sink) as CollectSink<T>).table(identity)
  }

  /**
   * What every sink has received so far, by sink name.
   * @example Object.keys(h.outputs()) // ['revenue', 'late-orders']
   */
  outputs(): Record<string, HarnessRecord[]> {
    return Object.fromEntries([...this.sinks].map(([name, c]) => [name, c.records.slice()]))
  }

  /**
   * Error records of failed records so far, under `onError: 'error-output'` (the step, the error, the position
   * `<input>:<n>` of a pushed record, the record); empty under the other policies.
   * @example assert.equal(h.errors()[0].step, 'parse')
   */
  errors(): ErrorRecord[] {
    return this.errorRecords.values.slice()
  }

  /**
   * Dead letters so far, under `onError: 'dead-letter'` (empty under the other policies). Letters become
   * visible at a checkpoint: this takes one.
   * @example const [letter] = await h.deadLetters(); letter.reason // 'user-function'
   */
  async deadLetters(): Promise<DeadLetter[]> {
    const letters = this.letters
    if (letters === undefined) return []
    if (this.ended !== undefined || this.failure !== undefined) return (await readDeadLetters(letters.dir, letters.topic)).map(({ offset: _o, ...l }) => l)
    await this.settle()
    await this.fenced(() => this.job.checkpoint())
    const open = this.job.inspect().deadLetters()
    if (open === undefined) return []
    const out: DeadLetter[] = []
    for await (const s of scanDeadLetters(open.log, open.topic)) if (s.visibility === 'visible') out.push(s.letter)
    return out
  }

  /**
   * Takes a savepoint of the job as it stands after everything pushed so far; `PipelineHarness.start(build,
   * { restore })` goes on from it in a fresh harness, as a job restored from a checkpoint does.
   * @example const snap = await h.snapshot(); await h.close(); const h2 = await PipelineHarness.start(build, { restore: snap })
   */
  async snapshot(): Promise<HarnessSnapshot> {
    await this.settle()
    snapshotRoot ??= mkdtempSync(join(tmpdir(), 'sluice-snapshots-'))
    folders.add(snapshotRoot)
    const dir = mkdtempSync(join(snapshotRoot, 'snapshot-'))
    rmSync(dir, { recursive: true })
    const time = this.clock.now()
    await this.fenced(() => this.job.savepoint(dir))
    return { dir, clock: time }
  }

  /**
   * Stops the job at once (no last checkpoint) and removes the harness's folder; what the sinks received stays
   * readable. Call it at the end of each test.
   * @example after(() => h.close())
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const i of this.inputs.values()) {
      i.fenced = true
      i.wake()
    }
    const status = this.job.status().status
    if (status !== 'finished' && status !== 'failed' && status !== 'cancelled' && status !== 'stopped') await this.job.cancel().catch(() => {})
    await this.over
    rmSync(this.dir, { recursive: true, force: true })
    folders.delete(this.dir)
  }

  private input(name: string): TestInput {
    const i = this.inputs.get(name)
    if (i === undefined) throw userError('SLUICE_BAD_ARGUMENT', `the pipeline has no input '${name}'`, { hint: `its inputs (source step ids) are: ${[...this.inputs.keys()].join(', ')}` })
    if (i.ended) throw userError('SLUICE_BAD_ARGUMENT', `input '${name}' has ended`)
    return i
  }

  private sinkName(sink: string | undefined): string {
    if (sink !== undefined) {
      if (!this.sinks.has(sink)) throw userError('SLUICE_BAD_ARGUMENT', `the pipeline has no sink '${sink}'`, { hint: `its sinks (step ids) are: ${[...this.sinks.keys()].join(', ') || 'none'}` })
      return sink
    }
    if (this.sinks.size !== 1) throw userError('SLUICE_BAD_ARGUMENT', `the pipeline has ${this.sinks.size} sinks: name the one to read`, { hint: `its sinks (step ids) are: ${[...this.sinks.keys()].join(', ') || 'none'}` })
    return this.sinks.keys().next().value!
  }

  private recorder(sink: string | undefined): CollectSink<unknown> {
    return this.sinks.get(this.sinkName(sink))!
  }

  private turned(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Resolves once `done()` holds; rejects with the job's failure, or when the job has ended. */
  private async until(done: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure
      if (done()) return
      if (this.ended !== undefined) throw new SluiceError('SLUICE_JOB_NOT_RUNNING', `pipeline '${this.name}' has finished: every input ended`, { domain: 'user' })
      await new Promise<void>((r) => this.waiters.push(r))
    }
  }

  /**
   * Waits until the pipeline has handled everything given to it: each input still open reads and finds nothing
   * twice after being woken (the executor's loop went round at least once in between, so its processing-time
   * timers have seen the clock too). When every input has ended, waits for the job to finish.
   */
  private async settle(): Promise<void> {
    if (this.closed) throw new SluiceError('SLUICE_JOB_NOT_RUNNING', `the harness of pipeline '${this.name}' is closed`, { domain: 'user' })
    for (let round = 0; round < 2; round++) {
      const open = [...this.inputs.values()].filter((i) => !i.ended)
      if (open.length === 0) {
        for (const i of this.inputs.values()) i.wake()
        await this.over
        if (this.failure !== undefined) throw this.failure
        return
      }
      const want = open.map((i) => i.emptyReads + 1)
      for (const i of open) i.wake()
      await this.until(() => open.every((i, k) => i.emptyReads >= want[k]))
    }
  }

  /** Runs a barrier round (a checkpoint, a savepoint): reads in flight return at once meanwhile, as a barrier waits for them. */
  private async fenced<T>(round: () => Promise<T>): Promise<T> {
    for (const i of this.inputs.values()) {
      i.fenced = true
      i.wake()
    }
    try {
      return await Promise.race([round(), this.over.then(() => Promise.reject(this.failure ?? new SluiceError('SLUICE_JOB_NOT_RUNNING', `pipeline '${this.name}' has ended`, { domain: 'user' })))])
    } finally {
      for (const i of this.inputs.values()) i.fenced = false
    }
  }
}

/** The pipeline `build` gives: itself, or what the function builds on a fresh pipeline. */
function built(build: HarnessBuild, opts: (PipelineOptions & { name?: string }) | undefined): Pipeline {
  if (build instanceof Pipeline) return build
  const { name, ...options } = opts ?? {}
  const p = pipeline(name ?? 'harness', options)
  const out = build({ pipeline: p, input: (n, o = {}) => p.from(inputPlaceholder(n, o)).id(n) })
  if (out instanceof Pipeline) return out
  if (out instanceof Stream) out.to(collect(), { id: 'output' })
  return p
}
