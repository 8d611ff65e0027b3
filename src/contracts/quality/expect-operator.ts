import type { Batch, Position } from '../../core/batch.ts'
import { parseDuration } from '../../core/duration.ts'
import { SluiceError } from '../../core/errors.ts'
import { subtaskOfKey } from '../../core/key.ts'
import { countQuality } from '../../core/metrics.ts'
import type { KeyedRestore, Operator, OperatorContext, Output } from '../../core/operator.ts'
import { KeyedSnapshotWriter, checkRestore, readEntries } from '../../operators/keyed-snapshot.ts'
import { noteQualityResults } from './results-seen.ts'
import { RECORD_KINDS, expectationName, type Expectation } from './expectations.ts'
import { addToDistribution, getter, newAcc, recordPredicate, restoreAcc, result, snapshotAcc, type Acc, type QualityResult } from './window-checks.ts'

/** The side output that carries `QualityResult`s. */
export const QUALITY_OUTPUT = 'quality'

/** An `expect` step as plain data: its expectations and window size in ms (undefined: the whole run). */
export interface ExpectSpec {
  expectations: Expectation[]
  windowMs: number | undefined
  keyGroups: number
}

interface WindowState {
  start: number
  count: number
  accs: Acc[]
}

/** An expectation with its durations in ms and its compiled parts. */
interface Compiled {
  e: Expectation
  name: string
  get: ((v: unknown) => unknown) | undefined
  test: ((v: unknown) => boolean) | undefined
  record: boolean
  maxLagMs: number
  lagFrom: ((v: unknown) => unknown) | undefined
  withinMs: number
  otherGet: ((v: unknown) => unknown) | undefined
}

const WHOLE_RUN = -Infinity

/**
 * Checks expectations on the records that pass, per tumbling event-time window (or over the whole run), and
 * emits one `QualityResult` per expectation and window on the `quality` side output once the watermark passes
 * the window's end. Record checks apply their severity per record (a dropped record goes to the error path);
 * window checks fail the job at the window's end under `fail`. Runs as one keyed subtask (a constant key), so
 * a window's figures cover every record; its state is checkpointed (sets of unique values, sketches, counts).
 */
export class ExpectOperator implements Operator {
  private readonly ctx: OperatorContext
  private readonly spec: ExpectSpec
  private readonly checks: Compiled[]
  private windows = new Map<number, WindowState>()
  /** Reference keys (the second input of a referential check) with the event times they were seen at. */
  private refs = new Map<unknown, number[]>()
  private lastTime = -Infinity
  /** Per expectation, the observed figures of its last closed window with records (a distribution's 'previous' baseline). */
  private previous: (Record<string, number | null> | undefined)[] = []

  constructor(spec: ExpectSpec, ctx: OperatorContext) {
    this.ctx = ctx
    this.spec = spec
    const where = `step '${ctx.stepId}'`
    this.checks = spec.expectations.map((e) => ({
      e,
      name: expectationName(e),
      get: 'field' in e && e.field !== undefined ? getter(e.field) : undefined,
      test: e.kind === 'notNull' || e.kind === 'inRange' || e.kind === 'inSet' || e.kind === 'pattern' ? recordPredicate(e) : undefined,
      record: RECORD_KINDS.has(e.kind),
      maxLagMs: e.kind === 'freshness' ? parseDuration(e.maxLag, `${where} freshness maxLag`) : 0,
      lagFrom: e.kind === 'freshness' && e.field !== undefined ? getter(e.field) : undefined,
      withinMs: e.kind === 'referential' ? parseDuration(e.within, `${where} referential within`) : 0,
      otherGet: e.kind === 'referential' ? getter(e.otherField) : undefined,
    }))
  }

  process(batch: Batch, out: Output, input: number): void {
    const { values, times } = batch
    if (input === 1) {
      for (const c of this.checks) {
        if (c.otherGet === undefined) continue
        for (let i = 0; i < values.length; i++) {
          const k = c.otherGet(values[i])
          if (k === null || k === undefined) continue
          let l = this.refs.get(k)
          if (l === undefined) this.refs.set(k, (l = []))
          l.push(times[i])
        }
      }
      return
    }
    const now = this.ctx.clock.now()
    let keep: boolean[] | undefined
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const t = times[i]
      if (t > this.lastTime) this.lastTime = t
      const w = this.windowOf(t)
      w.count++
      for (let j = 0; j < this.checks.length; j++) {
        const c = this.checks[j]
        const a = w.accs[j]
        if (!this.observe(c, a, v, t, now) && c.record) {
          a.failed++
          if (c.e.severity === 'drop') {
            ;(keep ??= new Array<boolean>(values.length).fill(true))[i] = false
            this.drop(c, v, t, batch.pos?.[i])
            break
          }
          if (c.e.severity === 'fail') {
            throw new SluiceError('SLUICE_EXPECTATION_FAILED', `expectation '${c.name}' failed on the record${batch.pos?.[i] !== undefined ? ` at ${batch.pos[i]}` : ''} (step '${this.ctx.stepId}')`, { domain: 'user', step: this.ctx.stepId, position: batch.pos?.[i], hint: "fix the data, or give the expectation the severity 'warn' or 'drop'" })
          }
        }
      }
    }
    if (keep === undefined) {
      this.ctx.metrics.recordsOut += values.length
      out.emit(batch)
    } else {
      const k = keep
      const b: Batch = { values: values.filter((_, i) => k[i]), times: times.filter((_, i) => k[i]) }
      if (batch.pos !== undefined) b.pos = batch.pos.filter((_, i) => k[i])
      if (batch.kinds !== undefined) b.kinds = batch.kinds.filter((_, i) => k[i])
      this.ctx.metrics.recordsOut += b.values.length
      out.emit(b)
    }
  }

  /** Adds a record to a check's state; false when a record check fails on it. */
  private observe(c: Compiled, a: Acc, v: unknown, t: number, now: number): boolean {
    switch (c.e.kind) {
      case 'notNull':
      case 'inRange':
      case 'inSet':
      case 'pattern':
        a.checked++
        return c.test!(v)
      case 'unique': {
        const x = c.get!(v)
        if (x === null || x === undefined) return true
        a.checked++
        if (a.seen!.has(x)) return false
        a.seen!.add(x)
        return true
      }
      case 'distribution': {
        const x = c.get!(v)
        if (typeof x === 'number' && Number.isFinite(x)) addToDistribution(a, x)
        return true
      }
      case 'freshness': {
        const at = c.lagFrom === undefined ? now : Number(c.lagFrom(v))
        a.checked++
        if (at - t > a.maxLag!) a.maxLag = at - t
        return true
      }
      case 'referential': {
        const k = c.get!(v)
        a.checked++
        a.keys!.push(k)
        a.times!.push(t)
        return true
      }
      default:
        return true
    }
  }

  private drop(c: Compiled, v: unknown, t: number, pos: Position | undefined): void {
    const error = new SluiceError('SLUICE_EXPECTATION_FAILED', `expectation '${c.name}' failed: the record is dropped (step '${this.ctx.stepId}')`, { domain: 'user', step: this.ctx.stepId, position: pos })
    const policy = (this.ctx.errors as { policy?: string }).policy
    if (policy === 'fail' || policy === 'skip') this.ctx.metrics.dropped++
    else this.ctx.errors.report(this.ctx.stepId, error, v, t, pos)
  }

  private windowOf(t: number): WindowState {
    const size = this.spec.windowMs
    const start = size === undefined ? WHOLE_RUN : Math.floor(t / size) * size
    let w = this.windows.get(start)
    if (w === undefined) this.windows.set(start, (w = { start, count: 0, accs: this.checks.map((c) => newAcc(c.e)) }))
    return w
  }

  onWatermark(watermark: number, out: Output): void {
    const size = this.spec.windowMs
    if (size === undefined) return
    const due = [...this.windows.values()].filter((w) => w.start + size <= watermark).sort((a, b) => a.start - b.start)
    for (const w of due) this.close(w, out)
    this.expireRefs(watermark)
  }

  finish(out: Output): void {
    // Over the whole run, an empty input is a result too (a row count of 0 fails `rowCount({ min: 1 })`): given by
    // the subtask that owns the constant key, so that other subtasks add no empty results of their own.
    if (this.spec.windowMs === undefined && this.windows.size === 0 && subtaskOfKey(0, this.ctx.parallelism, this.spec.keyGroups) === this.ctx.subtask) this.windowOf(WHOLE_RUN)
    for (const w of [...this.windows.values()].sort((a, b) => a.start - b.start)) this.close(w, out)
  }

  private close(w: WindowState, out: Output): void {
    this.windows.delete(w.start)
    const size = this.spec.windowMs
    const whole = w.start === WHOLE_RUN
    const results: QualityResult[] = []
    for (let j = 0; j < this.checks.length; j++) {
      const c = this.checks[j]
      const a = w.accs[j]
      if (c.e.kind === 'referential') a.failed = this.unmatched(c, a)
      const r = result(this.ctx.stepId, c.e, a, w.count, whole ? null : w.start, whole ? null : w.start + size!, c.maxLagMs, this.previous[j])
      if (c.e.kind === 'distribution' && a.checked > 0) this.previous[j] = r.observed
      results.push(r)
      countQuality(this.ctx.metrics, r.expectation, r)
      if (!r.passed && !c.record && c.e.severity === 'fail') {
        noteQualityResults(this.ctx.pipeline, results)
        out.side(QUALITY_OUTPUT, { values: results, times: results.map(() => this.resultTime(w)) })
        throw new SluiceError('SLUICE_EXPECTATION_FAILED', `expectation '${c.name}' failed for ${whole ? 'the run' : `the window [${w.start}, ${w.start + size!})`}: ${JSON.stringify(r.observed)} (step '${this.ctx.stepId}')`, { domain: 'user', step: this.ctx.stepId, hint: "fix the data or the bounds, or give the expectation the severity 'warn'" })
      }
    }
    noteQualityResults(this.ctx.pipeline, results)
    out.side(QUALITY_OUTPUT, { values: results, times: results.map(() => this.resultTime(w)) })
  }

  private resultTime(w: WindowState): number {
    return w.start === WHOLE_RUN ? (Number.isFinite(this.lastTime) ? this.lastTime : 0) : w.start + this.spec.windowMs! - 1
  }

  /** Keys of the window with no reference record within `within` before (or at) their event time. */
  private unmatched(c: Compiled, a: Acc): number {
    let failed = 0
    for (let i = 0; i < a.keys!.length; i++) {
      const seen = this.refs.get(a.keys![i])
      const t = a.times![i]
      if (seen === undefined || !seen.some((r) => r <= t && t - r <= c.withinMs)) failed++
    }
    a.keys = []
    a.times = []
    return failed
  }

  private expireRefs(watermark: number): void {
    const within = Math.max(0, ...this.checks.map((c) => c.withinMs))
    let oldest = watermark
    for (const w of this.windows.values()) oldest = Math.min(oldest, w.start)
    const limit = oldest - within
    for (const [k, l] of this.refs) {
      const kept = l.filter((r) => r >= limit)
      if (kept.length === 0) this.refs.delete(k)
      else if (kept.length !== l.length) this.refs.set(k, kept)
    }
  }

  snapshot(): unknown {
    const w = new KeyedSnapshotWriter(this.spec.keyGroups)
    w.add('quality', 0, { windows: [...this.windows.values()].map((x) => ({ start: x.start, count: x.count, accs: x.accs.map(snapshotAcc) })), refs: [...this.refs], lastTime: this.lastTime, previous: this.previous })
    return w.build(undefined)
  }

  restore(state: unknown): void {
    const r: KeyedRestore = checkRestore(state, this.spec.keyGroups, this.ctx.stepId)
    this.windows.clear()
    this.refs.clear()
    for (const [, , d] of readEntries<any>(r, 'quality')) {
      for (const x of d.windows) this.windows.set(x.start, { start: x.start, count: x.count, accs: x.accs.map(restoreAcc) })
      for (const [k, l] of d.refs) this.refs.set(k, l)
      this.lastTime = Math.max(this.lastTime, d.lastTime)
      if (Array.isArray(d.previous)) this.previous = d.previous.map((o: Record<string, number | null> | null) => o ?? undefined)
    }
  }

  keysHeld(): number {
    return this.windows.size
  }
}
