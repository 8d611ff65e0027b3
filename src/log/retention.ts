/** What retention needs to know of a sealed segment. */
export interface RetainedSegment {
  /** Bytes on disk. */
  readonly visibleSize: number
  /** Newest record timestamp (-Infinity when empty). */
  readonly maxTimestamp: number
}

export interface RetentionPolicy {
  retentionMs: number | null
  retentionBytes: number | null
}

/**
 * How many of the oldest sealed segments to delete: those whose newest record is older than
 * `now - retentionMs`, then more while the partition (`totalBytes`, the segment being written included)
 * holds more than `retentionBytes`. Only a prefix is deleted, so the stored offsets stay contiguous;
 * the segment being written is never deleted.
 */
export function segmentsToDelete(sealed: readonly RetainedSegment[], totalBytes: number, policy: RetentionPolicy, now: number): number {
  let n = 0
  if (policy.retentionMs !== null) {
    const cutoff = now - policy.retentionMs
    while (n < sealed.length && sealed[n].maxTimestamp < cutoff) n++
  }
  if (policy.retentionBytes !== null) {
    let size = totalBytes
    for (let i = 0; i < n; i++) size -= sealed[i].visibleSize
    while (n < sealed.length && size > policy.retentionBytes) {
      size -= sealed[n].visibleSize
      n++
    }
  }
  return n
}
