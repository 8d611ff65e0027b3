/**
 * The unit of data that flows between operators: parallel arrays, one slot per record.
 * `times` holds event timestamps in epoch milliseconds. `kinds` is absent for insert-only
 * batches; on updating streams it carries the changelog kind of each record.
 * @example const writer: SinkWriter<Click> = { write: (batch: Batch<Click>) => { console.log(batch.values.length, batch.times[0]) }, close: () => {} }
 */
export interface Batch<T = unknown> {
  values: T[]
  times: number[]
  /** Keys computed by `keyBy`, present on edges that lead into keyed steps. */
  keys?: unknown[]
  /** Changelog kind per record; absent means every record is an insert. */
  kinds?: RowKind[]
  /** Source position per record (file:line, log offset, sequence number), for error reports. */
  pos?: Position[]
  /**
   * When the batch's first record was read by its source (processing-time ms); operators' output inherits
   * it. Sinks measure end-to-end latency from it.
   */
  ingestedAt?: number
  /**
   * The W3C `traceparent` the batch's records follow: taken from a record header by a source, replaced by each
   * traced step with its own span, written to record headers by sinks that have them. Absent on most batches.
   */
  trace?: string
  /**
   * The `traceparent` each record was read with, for records whose source header had one: absent when no record
   * of the batch has one (most batches), else one slot per record, undefined for records without. Kept through
   * stateless steps and keyed exchanges; a sink writes a record's own context in place of the batch's when it
   * belongs to another trace.
   */
  traces?: (string | undefined)[]
}

/**
 * Gives record `i` its own trace context in a batch's `traces` (made on first use, slots before `i` left
 * undefined); returns the array. Pad it to the batch's length with `padTraces` once the batch is complete.
 * @example traces = traceRecord(traces, values.length - 1, traceparentOf(header))
 */
export function traceRecord(traces: (string | undefined)[] | undefined, i: number, traceparent: string): (string | undefined)[] {
  const t = traces ?? []
  while (t.length < i) t.push(undefined)
  t[i] = traceparent
  return t
}

/** `traces` with a slot for each of `n` records (undefined for those after the last traced one). */
export function padTraces(traces: (string | undefined)[], n: number): (string | undefined)[] {
  while (traces.length < n) traces.push(undefined)
  return traces
}

export type Position = string | number

/** Changelog kinds, as in Flink's RowKind. */
export type RowKind = 0 | 1 | 2 | 3
export const INSERT: RowKind = 0
export const UPDATE_BEFORE: RowKind = 1
export const UPDATE_AFTER: RowKind = 2
export const DELETE: RowKind = 3

const kindNames = ['+I', '-U', '+U', '-D'] as const
export type RowKindName = (typeof kindNames)[number]
export function rowKindName(k: RowKind): RowKindName {
  return kindNames[k]
}
export function parseRowKind(name: string): RowKind {
  const i = kindNames.indexOf(name as RowKindName)
  if (i < 0) throw new Error(`unknown changelog kind '${name}' (expected one of ${kindNames.join(', ')})`)
  return i as RowKind
}

export function emptyBatch<T>(): Batch<T> {
  return { values: [], times: [] }
}

/** A growable batch under construction; `take()` hands the arrays over and starts fresh ones. */
export class BatchBuilder<T = unknown> {
  values: T[] = []
  times: number[] = []
  keys: unknown[] | undefined = undefined
  kinds: RowKind[] | undefined = undefined
  pos: Position[] | undefined = undefined
  /** Per record trace contexts (see `Batch.traces`): made by the first `traceLast`. */
  traces: (string | undefined)[] | undefined = undefined

  get length(): number {
    return this.values.length
  }

  push(value: T, time: number): void {
    if (this.kinds !== undefined) this.kinds.push(INSERT)
    this.values.push(value)
    this.times.push(time)
  }

  pushKind(value: T, time: number, kind: RowKind): void {
    if (this.kinds === undefined) {
      if (kind === INSERT) {
        this.values.push(value)
        this.times.push(time)
        return
      }
      this.kinds = new Array<RowKind>(this.values.length).fill(INSERT)
    }
    this.values.push(value)
    this.times.push(time)
    this.kinds.push(kind)
  }

  /** Gives the record pushed last its own trace context. */
  traceLast(traceparent: string): void {
    this.traces = traceRecord(this.traces, this.values.length - 1, traceparent)
  }

  take(): Batch<T> {
    const b: Batch<T> = { values: this.values, times: this.times }
    if (this.kinds !== undefined) b.kinds = this.kinds
    if (this.keys !== undefined) b.keys = this.keys
    if (this.pos !== undefined) b.pos = this.pos
    if (this.traces !== undefined) b.traces = padTraces(this.traces, this.values.length)
    this.values = []
    this.times = []
    this.kinds = undefined
    this.keys = undefined
    this.pos = undefined
    this.traces = undefined
    return b
  }
}
