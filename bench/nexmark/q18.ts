import type { AggregateFunction } from '../../src/index.ts'
import type { Bid } from '../../src/connectors/nexmark/index.ts'
import { bids, type NexmarkQuery } from './query.ts'

/** A bid without its `type` tag. */
export type BidRow = Omit<Bid, 'type'>

export const bidRow = (b: Bid): BidRow => ({ auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, url: b.url, dateTime: b.dateTime, extra: b.extra })

// The latest bid by event time; of bids at the same time, the last to arrive.
const latest: AggregateFunction<Bid, { bid: Bid | null }, BidRow> = {
  name: 'latest-bid',
  create: () => ({ bid: null }),
  add: (acc, b) => {
    if (acc.bid === null || b.dateTime >= acc.bid.dateTime) acc.bid = b
    return acc
  },
  merge: (a, b) => (b.bid !== null && (a.bid === null || b.bid.dateTime >= a.bid.dateTime) ? b : a),
  result: (acc) => bidRow(acc.bid!),
}

/** q18, find last bid: deduplication keeping each bidder's latest bid on each auction. */
export const q18: NexmarkQuery<BidRow> = {
  name: 'q18',
  title: 'last bid per (bidder, auction)',
  columns: ['auction', 'bidder', 'price', 'channel', 'url', 'dateTime', 'extra'],
  identity: (r) => `${r.bidder}|${r.auction}`,
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => `${b.bidder}|${b.auction}`)
      .aggregate(latest)
      .map((r) => r.value),
}
