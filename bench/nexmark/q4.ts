import { agg, type AggregateFunction } from '../../src/index.ts'
import { auctions, bids, JOIN_TTL, type NexmarkQuery } from './query.ts'

interface Winning {
  category: number
  final: number
}

// Highest price per auction, remembering the auction's category.
const winning: AggregateFunction<Winning, Winning, Winning> = {
  name: 'winning-price',
  create: () => ({ category: 0, final: -Infinity }),
  add: (acc, v) => {
    acc.category = v.category
    if (v.final > acc.final) acc.final = v.final
    return acc
  },
  merge: (a, b) => (b.final > a.final ? b : a),
  result: (acc) => ({ category: acc.category, final: acc.final }),
}

/**
 * q4, average price for a category: the winning (highest) bid of each auction among the bids placed while
 * it was open, averaged per category. AVG over BIGINT is a BIGINT in Flink SQL: the mean is truncated.
 */
export const q4: NexmarkQuery<{ category: number; avg: number }> = {
  name: 'q4',
  title: 'average winning-bid price per category (join + two-level aggregate)',
  columns: ['category', 'avg'],
  identity: (r) => r.category,
  deterministic: true,
  build(events) {
    // Only the columns the query reads enter the join's state (what Flink's planner does by pruning columns).
    const joined = bids(events)
      .map((b) => ({ auction: b.auction, price: b.price, dateTime: b.dateTime }))
      .keyBy((b) => b.auction)
      .join(
        auctions(events)
          .map((a) => ({ id: a.id, category: a.category, dateTime: a.dateTime, expires: a.expires }))
          .keyBy((a) => a.id),
        { ttl: JOIN_TTL },
        (b, a) => (b.dateTime >= a.dateTime && b.dateTime <= a.expires ? { id: a.id, category: a.category, final: b.price } : null),
      )
      .filter((x): x is { id: number; category: number; final: number } => x !== null)
    return joined
      .keyBy((x) => x.id)
      .aggregate(winning)
      .map((r) => r.value)
      .keyBy((w) => w.category)
      .aggregate(agg.avg((w: Winning) => w.final))
      .map((r) => ({ category: r.key, avg: r.value === null ? 0 : Math.trunc(r.value) }))
  },
}
