import type { Batch } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import { END, type Source, type SourceContext, type SourceRead, type SourceReader } from '../../core/source.ts'
import type { Contract } from './define.ts'
import type { Violation } from './validator.ts'

/**
 * A source whose records are checked against a contract as they are read: a record that breaks it goes to
 * the error path (dead letters with the reason `validation`, the errors stream, or a failed job, as the
 * pipeline's `onError` says) with the field path, the rule, the subject and the version, and is counted per
 * rule; the others flow on, typed by the contract.
 * @example pipeline('bids').from(withContract(source.jsonl('bids.jsonl'), bids)) // Stream<Bid>
 */
export function withContract<T>(source: Source<any>, c: Contract<T>): Source<T> {
  return {
    kind: source.kind,
    bounded: source.bounded,
    options: source.options,
    contract: c,
    describe: () => ({ ...source.describe(), contract: c.describe() }),
    open: async (ctx) => new ValidatingReader(await source.open(ctx), c, ctx),
  }
}

/** Counts of violations per rule id (`<path> <rule>`), for a contract's source in this thread. */
export type ViolationCounts = Map<string, number>

const counters = new Map<string, ViolationCounts>()

/**
 * Violations counted so far per rule (`<field path> <rule>`), for the source step `stepId` of `pipeline` in this thread.
 * @example contractViolations('bids', 'source-jsonl-1').get('/price inRange') // 3
 */
export function contractViolations(pipeline: string, stepId: string): ViolationCounts {
  const key = `${pipeline}\u0000${stepId}`
  let m = counters.get(key)
  if (m === undefined) counters.set(key, (m = new Map()))
  return m
}

class ValidatingReader<T> implements SourceReader<T> {
  private readonly inner: SourceReader<unknown>
  private readonly contract: Contract<T>
  private readonly ctx: SourceContext
  private readonly counts: ViolationCounts
  readonly partitions: number
  readonly positions?: () => unknown[]
  readonly seek?: (p: unknown[]) => void | Promise<void>
  readonly onCheckpointComplete?: (id: number) => void | Promise<void>

  constructor(inner: SourceReader<unknown>, contract: Contract<T>, ctx: SourceContext) {
    this.inner = inner
    this.contract = contract
    this.ctx = ctx
    this.partitions = inner.partitions
    this.counts = contractViolations(ctx.pipeline, ctx.stepId)
    if (inner.positions !== undefined) this.positions = () => inner.positions!()
    if (inner.seek !== undefined) this.seek = (p) => inner.seek!(p)
    if (inner.onCheckpointComplete !== undefined) this.onCheckpointComplete = (id) => inner.onCheckpointComplete!(id)
  }

  read(partition: number, max: number): SourceRead<T> | Promise<SourceRead<T>> {
    const r = this.inner.read(partition, max)
    return r instanceof Promise ? r.then((b) => this.validate(b)) : this.validate(r)
  }

  private validate(r: SourceRead<unknown>): SourceRead<T> {
    if (r === END || r === null) return r
    const v = this.contract.validator()
    const values = r.values
    let keep: boolean[] | undefined
    for (let i = 0; i < values.length; i++) {
      const bad = v.check(values[i])
      if (bad === undefined) continue
      ;(keep ??= new Array<boolean>(values.length).fill(true))[i] = false
      this.report(bad, values[i], r.pos?.[i])
    }
    if (keep === undefined) return r as Batch<T>
    const out: Batch<T> = { values: values.filter((_, i) => keep[i]) as T[], times: r.times.length === values.length ? r.times.filter((_, i) => keep[i]) : r.times }
    if (r.pos !== undefined) out.pos = r.pos.filter((_, i) => keep[i])
    return out
  }

  private report(v: Violation, record: unknown, position: string | number | undefined): void {
    const id = `${v.path === '' ? '/' : v.path} ${v.rule}`
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
    const c = this.contract
    const error = new SluiceError('SLUICE_CONTRACT_VIOLATION', `record breaks contract '${c.name}' (subject ${c.subject}, version ${c.version}): field '${v.path === '' ? '/' : v.path}' ${v.detail} (rule ${v.rule})`, {
      domain: 'user',
      step: this.ctx.stepId,
      ...(position !== undefined ? { position } : {}),
      hint: `fix the producer, or evolve contract '${c.name}'`,
    })
    Object.assign(error, { violation: { ...v, subject: c.subject, version: c.version, contract: c.name } })
    if (this.ctx.invalid !== undefined) this.ctx.invalid(error, record, position)
    else this.ctx.malformed(error, JSON.stringify(record) ?? String(record), position ?? -1)
  }

  close(): void | Promise<void> {
    return this.inner.close()
  }
}
