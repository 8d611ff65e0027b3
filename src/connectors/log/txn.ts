/**
 * Transactions over the embedded log, which has none of its own: a transactional sink tags its records
 * with headers, and control records (empty value, `sluice.control` header) resolve them.
 *
 * - Data record of a transaction: headers `sluice.producer` (the writing sink: pipeline/step/subtask)
 *   and `sluice.txn` (`<writer epoch>.<sequence>`: unique per writer instance and transaction).
 * - `commit` / `abort` control record: `sluice.producer`, `sluice.txn`: resolves that transaction.
 * - `fence` control record: `sluice.producer`: aborts every transaction of that producer whose records
 *   come before it in the partition and that is not resolved before it. A sink appends a fence to every
 *   partition when it recovers, after committing the restored checkpoint's transaction.
 *
 * In each partition a transaction's data records come before its markers; the first resolving marker
 * after them wins. A read_committed reader releases records in offset order and stops at the first
 * record of an unresolved transaction (Kafka's last stable offset), so its position is one offset.
 */
export const PRODUCER = 'sluice.producer'
export const TXN = 'sluice.txn'
export const CONTROL = 'sluice.control'

export type ControlKind = 'commit' | 'abort' | 'fence'

/** What a reader sees in one record. */
export type Classified =
  | { type: 'plain' }
  | { type: 'data'; producer: string; txn: string }
  | { type: 'control'; kind: ControlKind; producer: string; txn: string }

export function classify(headers: Record<string, Buffer> | null | undefined): Classified {
  if (headers == null) return { type: 'plain' }
  const control = headers[CONTROL]
  const producer = headers[PRODUCER]?.toString('utf8') ?? ''
  const txn = headers[TXN]?.toString('utf8') ?? ''
  if (control !== undefined) {
    const kind = control.toString('utf8')
    if (kind === 'commit' || kind === 'abort' || kind === 'fence') return { type: 'control', kind, producer, txn }
    return { type: 'control', kind: 'abort', producer, txn: '' }
  }
  if (headers[TXN] !== undefined) return { type: 'data', producer, txn }
  return { type: 'plain' }
}

/**
 * Markers one partition's reader has seen ahead of its position, to decide transactions. Markers
 * behind the position no longer matter and are dropped (`prune`).
 */
export class TxnState {
  /** First commit/abort marker of each transaction: its offset and outcome. */
  private readonly outcome = new Map<string, { at: number; committed: boolean }>()
  /** Fence offsets by producer, ascending. */
  private readonly fences = new Map<string, number[]>()
  /** Markers are known for offsets below this. */
  scanned = 0

  note(c: Classified, offset: number): void {
    if (c.type !== 'control') return
    if (c.kind === 'fence') {
      const list = this.fences.get(c.producer) ?? []
      if (list.length === 0 || list[list.length - 1] < offset) list.push(offset)
      this.fences.set(c.producer, list)
    } else if (!this.outcome.has(c.txn) || this.outcome.get(c.txn)!.at > offset) {
      this.outcome.set(c.txn, { at: offset, committed: c.kind === 'commit' })
    }
  }

  /**
   * Whether the transaction of the data record at `offset` committed: true, false (aborted or fenced),
   * or undefined while no marker after it is known.
   */
  decide(producer: string, txn: string, offset: number): boolean | undefined {
    const o = this.outcome.get(txn)
    const fence = this.fences.get(producer)?.find((f) => f > offset)
    if (o !== undefined && (fence === undefined || o.at < fence)) return o.committed
    if (fence !== undefined) return false
    return undefined
  }

  /** Forgets markers below `offset` (the reader's position): no record before them remains to decide. */
  prune(offset: number): void {
    for (const [txn, o] of this.outcome) if (o.at < offset) this.outcome.delete(txn)
    for (const [producer, list] of this.fences) {
      const keep = list.filter((f) => f >= offset)
      if (keep.length === 0) this.fences.delete(producer)
      else this.fences.set(producer, keep)
    }
  }
}
