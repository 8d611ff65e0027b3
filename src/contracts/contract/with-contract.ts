import type { Batch } from '../../core/batch.ts'
import type { Sink } from '../../core/sink.ts'
import { END, type Source, type SourceContext, type SourceRead, type SourceReader } from '../../core/source.ts'
import { contractSink } from './contract-sink.ts'
import type { Contract } from './define.ts'
import type { Violation } from './validator.ts'
import { keepValid, violationError } from './violation-error.ts'

/**
 * Attaches a contract to a source or a sink. On a source, records are checked as they are read; on a sink,
 * before the write (and the sink may take its columns from the contract). A record that breaks it goes to the
 * error path (dead letters with the reason `validation`, the errors stream, or a failed job, as the pipeline's
 * `onError` says) with the field path, the rule, the subject and the version, and is counted per rule in the
 * step's metrics (`violations`); the others flow on, typed by the contract.
 * @example pipeline('bids').from(withContract(source.jsonl('bids.jsonl'), bidContract)).to(withContract(sink.parquet('out/bids'), bidContract))
 */
export function withContract<T>(source: Source<any>, c: Contract<T>): Source<T>
export function withContract<T>(sink: Sink<any>, c: Contract<T>): Sink<T>
export function withContract<T>(step: Source<any> | Sink<any>, c: Contract<T>): Source<T> | Sink<T> {
  if (isSink(step)) return contractSink(step, c)
  const source = step
  const checked: Source<T> = {
    kind: source.kind,
    bounded: source.bounded,
    options: source.options,
    ...(source.assignSplitsOnDemand !== undefined ? { assignSplitsOnDemand: source.assignSplitsOnDemand } : {}),
    contract: c,
    describe: () => ({ ...source.describe(), contract: c.describe() }),
    open: async (ctx) => new ValidatingReader(await source.open(ctx), c, ctx),
  }
  return checked
}

function isSink(x: Source<any> | Sink<any>): x is Sink<any> {
  return typeof (x as Sink<any>).guarantee === 'string' && !('bounded' in x)
}

class ValidatingReader<T> implements SourceReader<T> {
  private readonly inner: SourceReader<unknown>
  private readonly contract: Contract<T>
  private readonly ctx: SourceContext
  readonly positions?: () => unknown[]
  readonly seek?: (p: unknown[]) => void | Promise<void>
  readonly onCheckpointComplete?: (id: number) => void | Promise<void>
  readonly progress?: (partition: number) => { done: number; total: number }
  readonly bytesRead?: () => number
  readonly lag?: (partition: number) => number
  readonly lagUnit?: 'records' | 'bytes'
  readonly discover?: () => Promise<number>
  readonly discoverEveryMs?: number
  readonly splits?: () => string[]
  readonly adopt?: (names: string[]) => void | Promise<void>

  constructor(inner: SourceReader<unknown>, contract: Contract<T>, ctx: SourceContext) {
    this.inner = inner
    this.contract = contract
    this.ctx = ctx
    if (inner.positions !== undefined) this.positions = () => inner.positions!()
    if (inner.seek !== undefined) this.seek = (p) => inner.seek!(p)
    if (inner.onCheckpointComplete !== undefined) this.onCheckpointComplete = (id) => inner.onCheckpointComplete!(id)
    if (inner.progress !== undefined) this.progress = (p) => inner.progress!(p)
    if (inner.bytesRead !== undefined) this.bytesRead = () => inner.bytesRead!()
    if (inner.lag !== undefined) this.lag = (p) => inner.lag!(p)
    if (inner.lagUnit !== undefined) this.lagUnit = inner.lagUnit
    if (inner.discover !== undefined) this.discover = () => inner.discover!()
    if (inner.discoverEveryMs !== undefined) this.discoverEveryMs = inner.discoverEveryMs
    if (inner.splits !== undefined) this.splits = () => inner.splits!()
    if (inner.adopt !== undefined) this.adopt = (names) => inner.adopt!(names)
  }

  /** The inner reader's, which may grow (`discover`). */
  get partitions(): number {
    return this.inner.partitions
  }

  read(partition: number, max: number): SourceRead<T> | Promise<SourceRead<T>> {
    const r = this.inner.read(partition, max)
    return r instanceof Promise ? r.then((b) => this.validate(b)) : this.validate(r)
  }

  private validate(r: SourceRead<unknown>): SourceRead<T> {
    if (r === END || r === null) return r
    return keepValid(r, this.contract.validator(), (i, v) => this.report(v, r.values[i], r.pos?.[i])) as Batch<T>
  }

  private report(v: Violation, record: unknown, position: string | number | undefined): void {
    const error = violationError(this.contract as Contract<unknown>, v, this.ctx.stepId, position)
    if (this.ctx.invalid !== undefined) this.ctx.invalid(error, record, position)
    else this.ctx.malformed(error, JSON.stringify(record) ?? String(record), position ?? -1)
  }

  close(): void | Promise<void> {
    return this.inner.close()
  }
}
