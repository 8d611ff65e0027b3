import type { Batch, Position } from '../../core/batch.ts'
import { SluiceError } from '../../core/errors.ts'
import type { Contract } from './define.ts'
import type { RecordValidator, Violation } from './validator.ts'

/** A violation as the error path and the metrics see it: the field path, the rule, and the contract's subject and version. */
export interface ContractViolation extends Violation {
  contract: string
  subject: string
  version: number
}

/**
 * The error for a record of step `step` that breaks contract `c`: `SLUICE_CONTRACT_VIOLATION` naming the field
 * path, the rule, the subject and the version, never the values. The runtime counts it per rule (its
 * `violation`) in the step's metrics.
 * @example violationError(bids, { path: '/price', rule: 'minimum', detail: 'must be >= 1' }, 'source-jsonl-1', 'bids.jsonl:7')
 */
export function violationError(c: Contract<unknown>, v: Violation, step: string, position: Position | undefined): SluiceError & { violation: ContractViolation } {
  const field = v.path === '' ? '/' : v.path
  const error = new SluiceError('SLUICE_CONTRACT_VIOLATION', `record breaks contract '${c.name}' (subject ${c.subject}, version ${c.version}): field '${field}' ${v.detail} (rule ${v.rule})`, {
    domain: 'user',
    step,
    ...(position !== undefined ? { position } : {}),
    hint: `fix the producer, or evolve contract '${c.name}'`,
  })
  return Object.assign(error, { violation: { ...v, subject: c.subject, version: c.version, contract: c.name } })
}

/**
 * Checks every record of a batch; calls `bad` for each one that breaks the contract and returns the batch of
 * the others (the same batch when all keep it: no copy on the fast path).
 * @example const kept = keepValid(batch, bids.validator(), (i, v) => report(i, v))
 */
export function keepValid<T>(batch: Batch<T>, validator: RecordValidator, bad: (index: number, v: Violation) => void): Batch<T> {
  const values = batch.values
  let keep: boolean[] | undefined
  for (let i = 0; i < values.length; i++) {
    const v = validator.check(values[i])
    if (v === undefined) continue
    ;(keep ??= new Array<boolean>(values.length).fill(true))[i] = false
    bad(i, v)
  }
  if (keep === undefined) return batch
  const k = keep
  const out: Batch<T> = { values: values.filter((_, i) => k[i]), times: batch.times.length === values.length ? batch.times.filter((_, i) => k[i]) : batch.times }
  if (batch.pos !== undefined) out.pos = batch.pos.filter((_, i) => k[i])
  if (batch.kinds !== undefined) out.kinds = batch.kinds.filter((_, i) => k[i])
  if (batch.keys !== undefined) out.keys = batch.keys.filter((_, i) => k[i])
  if (batch.ingestedAt !== undefined) out.ingestedAt = batch.ingestedAt
  return out
}
