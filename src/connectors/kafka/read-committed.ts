import type { WireRecord } from './client.ts'

/** An aborted transaction a fetch response lists: its producer and the offset of its first record. */
export interface AbortedTxn {
  producerId: string
  firstOffset: string
}

const ABORT_MARKER = Buffer.from([0, 0, 0, 0])

/**
 * The data records of one fetched partition that a read_committed consumer may deliver, in offset order:
 * control records and the records of aborted transactions removed. A broker in read_committed isolation
 * returns records only below the last stable offset, with the aborted transactions that overlap them; a
 * record is aborted when its producer has an aborted transaction that started at or before it and whose
 * abort marker comes after it. Every aborted transaction that starts at or before a record is taken into
 * account before that record is judged (kafkajs's own filter takes one per record, which lets through
 * records of a second producer's aborted transaction when the fetch starts inside it).
 * @example deliverable(partition.messages, partition.abortedTransactions)
 */
export function deliverable(records: readonly WireRecord[], aborted: readonly AbortedTxn[] | null | undefined): WireRecord[] {
  const out: WireRecord[] = []
  if (aborted == null || aborted.length === 0) {
    for (const r of records) if (!r.isControlRecord) out.push(r)
    return out
  }
  const upcoming = [...aborted].sort((a, b) => cmp(a.firstOffset, b.firstOffset))
  const open = new Set<string>()
  let next = 0
  for (const r of records) {
    while (next < upcoming.length && cmp(upcoming[next].firstOffset, r.offset) <= 0) open.add(upcoming[next++].producerId)
    const pid = r.batchContext.producerId
    if (r.isControlRecord) {
      if (r.key !== null && ABORT_MARKER.equals(r.key)) open.delete(pid)
      continue
    }
    if (r.batchContext.inTransaction && open.has(pid)) continue
    out.push(r)
  }
  return out
}

/** Compares two decimal offset strings (int64 as kafkajs gives them). */
function cmp(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0
}
