import type { AggregateFunction } from '../../src/index.ts'
import type { Bid } from '../../src/connectors/nexmark/index.ts'
import { bids, dayName, dayOf, type NexmarkQuery } from './query.ts'
import { rankOf } from './q16.ts'

export interface Q17Row {
  auction: number
  day: string
  total_bids: number
  rank1_bids: number
  rank2_bids: number
  rank3_bids: number
  min_price: number
  max_price: number
  avg_price: number
  sum_price: number
}

interface Acc {
  auction: number
  day: number
  counts: number[]
  min: number
  max: number
  sum: number
}

const stats: AggregateFunction<Bid, Acc, Q17Row> = {
  name: 'auction-stats',
  create: () => ({ auction: 0, day: 0, counts: [0, 0, 0, 0], min: Infinity, max: -Infinity, sum: 0 }),
  add(acc, b) {
    acc.auction = b.auction
    acc.day = dayOf(b.dateTime)
    acc.counts[0]++
    acc.counts[rankOf(b.price)]++
    if (b.price < acc.min) acc.min = b.price
    if (b.price > acc.max) acc.max = b.price
    acc.sum += b.price
    return acc
  },
  merge() {
    throw new Error('auction-stats: merge is not needed by an unwindowed aggregate')
  },
  result: (a) => ({
    auction: a.auction,
    day: dayName(a.day),
    total_bids: a.counts[0],
    rank1_bids: a.counts[1],
    rank2_bids: a.counts[2],
    rank3_bids: a.counts[3],
    min_price: a.min,
    max_price: a.max,
    // AVG over BIGINT is a BIGINT in Flink SQL.
    avg_price: Math.trunc(a.sum / a.counts[0]),
    sum_price: a.sum,
  }),
}

/** q17, auction statistics: per auction and day, bid counts per price rank and min/max/avg/sum of prices. */
export const q17: NexmarkQuery<Q17Row> = {
  name: 'q17',
  title: 'per-auction daily bid counts and price statistics',
  columns: ['auction', 'day', 'total_bids', 'rank1_bids', 'rank2_bids', 'rank3_bids', 'min_price', 'max_price', 'avg_price', 'sum_price'],
  identity: (r) => `${r.auction}|${r.day}`,
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => `${b.auction}|${dayOf(b.dateTime)}`)
      .aggregate(stats)
      .map((r) => r.value),
}
