import { agg, pipeline, sink, source, watermark, window } from '../../src/index.ts'
import type { PipelineContext } from '../../src/api/pipeline-module.ts'

/** Auctions bids go to. */
const AUCTIONS = 10_000

/** The inverse CDF of a Zipf law over `n` ranks with exponent `s`: rank 0 is the hottest. */
function zipf(n: number, s: number): (u: number) => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let k = 0; k < n; k++) cdf[k] = total += 1 / Math.pow(k + 1, s)
  for (let k = 0; k < n; k++) cdf[k] /= total
  return (u) => {
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/**
 * Nexmark-like bids whose auctions follow a Zipf law (`params.zipf`, default 2: about 61% of the bids on one
 * auction), counted per auction: the hot-items count of q5 without its window, or with it when `params.window`
 * is 'true' (10 s tumbling windows in event time). `params.variant`: 'plain' (no combiner), 'auto' (the
 * default: a combiner that pre-aggregates before the keyed exchange at parallelism > 1), 'combine' (one that
 * always does) or 'salt' (the key spread over 4 sub-keys; keyed aggregate only).
 */
export function build(params: Record<string, string>) {
  const events = Number(params.events ?? 2_000_000)
  const partitions = Number(params.partitions ?? 1)
  const rank = zipf(AUCTIONS, Number(params.zipf ?? 2))
  const variant = params.variant ?? 'plain'
  const p = pipeline('skew')
  const byAuction = p
    .from(
      source.generator({
        count: events,
        partitions,
        make: (g) => ({ auction: 1000 + rank(g.random()), bidder: g.int(100_000), price: 100 + g.int(100_000), dateTime: 1_767_225_600_000 + Math.floor(g.seq / 10) }),
        eventTime: (b) => b.dateTime,
        watermark: watermark.boundedOutOfOrder('200ms'),
      }),
    )
    .keyBy((b) => b.auction)
  const combine = variant === 'combine' ? true : variant === 'auto' ? 'auto' : false
  const counts = params.window === 'true' ? byAuction.window(window.tumbling({ size: '10s' })).aggregate(agg.count(), { combine }) : byAuction.aggregate(agg.count(), variant === 'salt' ? { salt: 4 } : { combine })
  counts.to(sink.blackhole())
  return p
}

export default ({ params }: PipelineContext) => build(params)
