/** Records a rate is judged on: a sample of folded batches this large (about 35 Nexmark batches). */
export const FOLD_SAMPLE = 16_384
/** Folding pays when it sends on at most this share of what it takes in: each key met twice on average. */
export const MAX_FOLD_RATIO = 0.5
/** While passing records on, one batch in this many is folded anyway, to see whether keys repeat more now. */
export const PROBE_EVERY = 16

/**
 * Whether a combiner that folds by default (`combine: 'auto'`) should fold the next batch. Folding costs a map
 * lookup per record and makes a partial per key and window, which crosses the exchange as an object of its own
 * kind; it pays only when keys repeat within a batch. When they rarely do (Nexmark q5: a sliding window count
 * per auction, whose bids make about as many partials as records), the combiner passes batches on untouched,
 * folding one batch in `PROBE_EVERY` to see whether that changed. The output is the same either way: the step
 * after a combiner takes partials and records alike.
 * @example
 * const gate = new FoldGate()
 * if (!gate.shouldFold()) return out.emit(batch)
 * // ... fold the batch's n records into m partials (and records passed on)
 * gate.folded(n, m)
 */
export class FoldGate {
  /** Whether batches are folded (true at first: a sample decides). */
  folding = true
  private taken = 0
  private sent = 0
  private passed = 0

  /** Whether to fold the next batch. */
  shouldFold(): boolean {
    if (this.folding) return true
    this.passed++
    return this.passed % PROBE_EVERY === 0
  }

  /** A folded batch's `n` records went on as `m` partials and records. */
  folded(n: number, m: number): void {
    this.taken += n
    this.sent += m
    if (this.taken < FOLD_SAMPLE) return
    this.folding = this.sent <= this.taken * MAX_FOLD_RATIO
    this.taken = 0
    this.sent = 0
    this.passed = 0
  }
}
