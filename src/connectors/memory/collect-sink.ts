import { INSERT, rowKindName, type RowKind, type RowKindName } from '../../core/batch.ts'
import { keyId } from '../../core/key.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'

export interface CollectedRecord<T> {
  value: T
  time: number
  kind: RowKindName
}

/** A sink that keeps everything in memory, for tests. Read `values`, `records`, or `table()`. */
export interface CollectSink<T> extends Sink<T> {
  /** Values in arrival order (changelog kinds ignored). */
  readonly values: T[]
  /** Values with their event time and changelog kind. */
  readonly records: CollectedRecord<T>[]
  /** Whether the input ended (the pipeline finished). */
  readonly closed: boolean
  /** Applies the changelog: the final rows, one per identity (default: the whole value for inserts, `key` field if present). */
  table(identity?: (value: T) => unknown): T[]
}

/**
 * Keeps every record in memory, for tests: read `values`, `records` (with time and changelog kind), or
 * `table()` (the changelog applied).
 * @example const out = sink.collect<Revenue>(); stream.to(out); await run(p); out.values // every record, in order
 */
export function collect<T>(): CollectSink<T> {
  const values: T[] = []
  const records: CollectedRecord<T>[] = []
  let closed = false
  const writer: SinkWriter<T> = {
    write(batch) {
      const { kinds } = batch
      for (let i = 0; i < batch.values.length; i++) {
        values.push(batch.values[i])
        records.push({ value: batch.values[i], time: batch.times[i], kind: rowKindName(kinds === undefined ? INSERT : (kinds[i] as RowKind)) })
      }
    },
    close() {
      closed = true
    },
  }
  return {
    kind: 'collect',
    guarantee: 'none',
    // The arrays live on the thread that built the pipeline.
    singleSubtask: true,
    describe: () => ({ kind: 'collect' }),
    open: () => writer,
    values,
    records,
    get closed() {
      return closed
    },
    table(identity) {
      const id = identity ?? ((v: T) => (typeof v === 'object' && v !== null && 'key' in v ? keyId((v as { key: unknown }).key) + ('start' in v ? `@${String((v as { start: unknown }).start)}` : '') : JSON.stringify(v)))
      return materialize(records, id)
    },
  }
}

/** Applies a changelog: +I/+U set the row of an identity, -U/-D remove it. */
export function materialize<T>(records: readonly CollectedRecord<T>[], identity: (value: T) => unknown): T[] {
  const rows = new Map<unknown, T>()
  for (const r of records) {
    const id = identity(r.value)
    if (r.kind === '+I' || r.kind === '+U') rows.set(id, r.value)
    else rows.delete(id)
  }
  return [...rows.values()]
}
