import type { AggregateFunction } from '../../src/index.ts'
import type { Bid } from '../../src/connectors/nexmark/index.ts'
import { bids, dayName, dayOf, minuteName, type NexmarkQuery } from './query.ts'

export interface Q16Row {
  channel: string
  day: string
  minute: string
  total_bids: number
  rank1_bids: number
  rank2_bids: number
  rank3_bids: number
  total_bidders: number
  rank1_bidders: number
  rank2_bidders: number
  rank3_bidders: number
  total_auctions: number
  rank1_auctions: number
  rank2_auctions: number
  rank3_auctions: number
}

/** Price rank of a bid: 1 below 10,000; 2 below 1,000,000; 3 above. */
export const rankOf = (price: number): 1 | 2 | 3 => (price < 10_000 ? 1 : price < 1_000_000 ? 2 : 3)

/** Distinct values overall and per rank, counted as they arrive: each value remembers the ranks it was seen in. */
class DistinctByRank {
  readonly seen = new Map<number, number>()
  readonly counts = [0, 0, 0, 0]
  add(v: number, rank: number): void {
    const old = this.seen.get(v) ?? 0
    const bit = 1 << rank
    if (old & bit) return
    if (old === 0) this.counts[0]++
    this.counts[rank]++
    this.seen.set(v, old | bit)
  }
}

interface Acc {
  channel: string
  day: number
  minute: number
  bids: number[]
  bidders: DistinctByRank
  auctions: DistinctByRank
}

const stats: AggregateFunction<Bid, Acc, Q16Row> = {
  name: 'channel-stats',
  create: () => ({ channel: '', day: 0, minute: -1, bids: [0, 0, 0, 0], bidders: new DistinctByRank(), auctions: new DistinctByRank() }),
  add(acc, b) {
    if (acc.minute < 0) {
      acc.channel = b.channel
      acc.day = dayOf(b.dateTime)
    }
    const minute = Math.floor((b.dateTime % 86_400_000) / 60_000)
    if (minute > acc.minute) acc.minute = minute
    const rank = rankOf(b.price)
    acc.bids[0]++
    acc.bids[rank]++
    acc.bidders.add(b.bidder, rank)
    acc.auctions.add(b.auction, rank)
    return acc
  },
  merge() {
    throw new Error('channel-stats: merge is not needed by an unwindowed aggregate')
  },
  result: (a) => ({
    channel: a.channel,
    day: dayName(a.day),
    minute: minuteName(a.minute),
    total_bids: a.bids[0],
    rank1_bids: a.bids[1],
    rank2_bids: a.bids[2],
    rank3_bids: a.bids[3],
    total_bidders: a.bidders.counts[0],
    rank1_bidders: a.bidders.counts[1],
    rank2_bidders: a.bidders.counts[2],
    rank3_bidders: a.bidders.counts[3],
    total_auctions: a.auctions.counts[0],
    rank1_auctions: a.auctions.counts[1],
    rank2_auctions: a.auctions.counts[2],
    rank3_auctions: a.auctions.counts[3],
  }),
}

/** q16, channel statistics: per channel and day, bid counts and distinct bidders and auctions per price rank. */
export const q16: NexmarkQuery<Q16Row> = {
  name: 'q16',
  title: 'per-channel daily counts and distinct counts by price rank',
  columns: ['channel', 'day', 'minute', 'total_bids', 'rank1_bids', 'rank2_bids', 'rank3_bids', 'total_bidders', 'rank1_bidders', 'rank2_bidders', 'rank3_bidders', 'total_auctions', 'rank1_auctions', 'rank2_auctions', 'rank3_auctions'],
  identity: (r) => `${r.channel}|${r.day}`,
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => `${b.channel}|${dayOf(b.dateTime)}`)
      .aggregate(stats)
      .map((r) => r.value),
}
