/** Upper bounds (seconds) of the end-to-end latency histograms; the last bucket (+Inf) takes the rest. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

const BOUNDS_MS = LATENCY_BUCKETS_SECONDS.map((s) => s * 1000)

/**
 * A latency histogram as plain data: `counts[i]` observations at most `LATENCY_BUCKETS_SECONDS[i]` and above
 * the bound before (not cumulative; the last slot is +Inf), their `sumMs` and `count`.
 * @example const h = emptyHistogram(); observe(h, 12, 100) // 100 records 12 ms late: counts[3] = 100
 */
export interface LatencyHistogram {
  counts: number[]
  sumMs: number
  count: number
}

export function emptyHistogram(): LatencyHistogram {
  return { counts: new Array<number>(BOUNDS_MS.length + 1).fill(0), sumMs: 0, count: 0 }
}

/** Counts `n` observations of `ms` (negative ones, a clock step back, count as 0). */
export function observe(h: LatencyHistogram, ms: number, n = 1): void {
  const v = ms > 0 ? ms : 0
  h.counts[bucketOf(v)] += n
  h.sumMs += v * n
  h.count += n
}

/** Adds `from` into `to`. */
export function addHistogram(to: LatencyHistogram, from: LatencyHistogram): void {
  for (let i = 0; i < to.counts.length; i++) to.counts[i] += from.counts[i]
  to.sumMs += from.sumMs
  to.count += from.count
}

export function copyHistogram(h: LatencyHistogram): LatencyHistogram {
  return { counts: h.counts.slice(), sumMs: h.sumMs, count: h.count }
}

/**
 * The quantile `q` (0 to 1) estimated from the buckets, in ms: the upper bound of the bucket that holds it
 * (NaN when empty; Infinity in the last bucket).
 * @example quantileMs(h, 0.99) // 25: 99% of records took at most 25 ms
 */
export function quantileMs(h: LatencyHistogram, q: number): number {
  if (h.count === 0) return NaN
  const rank = q * h.count
  let seen = 0
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]
    if (seen >= rank) return i < BOUNDS_MS.length ? BOUNDS_MS[i] : Infinity
  }
  return Infinity
}

/** Counts one observation of `now - t` per event time `t`; a batch whose times fall in one bucket costs one pass. */
export function observeTimes(h: LatencyHistogram, now: number, times: readonly number[]): void {
  const n = times.length
  if (n === 0) return
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (let i = 0; i < n; i++) {
    const t = times[i]
    if (t < min) min = t
    if (t > max) max = t
    sum += t
  }
  const b = bucketOf(now - max)
  if (now - max >= 0 && b === bucketOf(now - min)) {
    h.counts[b] += n
    h.sumMs += n * now - sum
    h.count += n
    return
  }
  for (let i = 0; i < n; i++) observe(h, now - times[i])
}

function bucketOf(ms: number): number {
  let i = 0
  while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]) i++
  return i
}
