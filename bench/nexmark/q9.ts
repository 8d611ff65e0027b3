import type { AggregateFunction, Auction, Bid } from '../../src/index.ts'
import { auctions, bids, JOIN_TTL, type NexmarkQuery } from './query.ts'

/** The auction's columns, then the winning bid's (its time and extra renamed, as in the SQL). */
export type Q9Row = Omit<Auction, 'type'> & Pick<Bid, 'auction' | 'bidder' | 'price'> & { bid_dateTime: number; bid_extra: string }

// The winning bid: highest price, then earliest time; among equals the first to arrive.
const winner: AggregateFunction<Q9Row, { best: Q9Row | null }, Q9Row> = {
  name: 'winning-bid',
  create: () => ({ best: null }),
  add: (acc, r) => {
    const b = acc.best
    if (b === null || r.price > b.price || (r.price === b.price && r.bid_dateTime < b.bid_dateTime)) acc.best = r
    return acc
  },
  merge: (a, b) => (b.best !== null && (a.best === null || b.best.price > a.best.price) ? b : a),
  result: (acc) => acc.best!,
}

/** q9, winning bids: each auction with its highest bid placed while it was open (ROW_NUMBER() = 1). */
export const q9: NexmarkQuery<Q9Row> = {
  name: 'q9',
  title: 'winning bid per auction',
  columns: ['id', 'itemName', 'description', 'initialBid', 'reserve', 'dateTime', 'expires', 'seller', 'category', 'extra', 'auction', 'bidder', 'price', 'bid_dateTime', 'bid_extra'],
  identity: (r) => r.id,
  deterministic: true,
  build(events) {
    return auctions(events)
      .keyBy((a) => a.id)
      .join(
        // Only the bid columns the query reads enter the join's state (Flink's planner prunes the others too).
        bids(events)
          .map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra }))
          .keyBy((b) => b.auction),
        { ttl: JOIN_TTL },
        (a, b) =>
          b.dateTime >= a.dateTime && b.dateTime <= a.expires
            ? {
                id: a.id,
                itemName: a.itemName,
                description: a.description,
                initialBid: a.initialBid,
                reserve: a.reserve,
                dateTime: a.dateTime,
                expires: a.expires,
                seller: a.seller,
                category: a.category,
                extra: a.extra,
                auction: b.auction,
                bidder: b.bidder,
                price: b.price,
                bid_dateTime: b.dateTime,
                bid_extra: b.extra,
              }
            : null,
      )
      .filter((r): r is Q9Row => r !== null)
      .keyBy((r) => r.id)
      .aggregate(winner)
      .map((r) => r.value)
  },
}
