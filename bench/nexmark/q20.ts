import { auctions, bids, JOIN_TTL, type NexmarkQuery } from './query.ts'

export interface Q20Row {
  auction: number
  bidder: number
  price: number
  channel: string
  url: string
  bid_dateTime: number
  bid_extra: string
  itemName: string
  description: string
  initialBid: number
  reserve: number
  auction_dateTime: number
  expires: number
  seller: number
  category: number
  auction_extra: string
}

/** q20, expand bid with auction: every bid joined with its auction, for auctions of category 10. */
export const q20: NexmarkQuery<Q20Row> = {
  name: 'q20',
  title: 'bids joined with their category-10 auction',
  columns: ['auction', 'bidder', 'price', 'channel', 'url', 'bid_dateTime', 'bid_extra', 'itemName', 'description', 'initialBid', 'reserve', 'auction_dateTime', 'expires', 'seller', 'category', 'auction_extra'],
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.auction)
      .join(
        auctions(events)
          .filter((a) => a.category === 10)
          .keyBy((a) => a.id),
        { ttl: JOIN_TTL },
        (b, a) => ({
          auction: b.auction,
          bidder: b.bidder,
          price: b.price,
          channel: b.channel,
          url: b.url,
          bid_dateTime: b.dateTime,
          bid_extra: b.extra,
          itemName: a.itemName,
          description: a.description,
          initialBid: a.initialBid,
          reserve: a.reserve,
          auction_dateTime: a.dateTime,
          expires: a.expires,
          seller: a.seller,
          category: a.category,
          auction_extra: a.extra,
        }),
      ),
}
