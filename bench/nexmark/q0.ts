import { bids, type NexmarkQuery } from './query.ts'

export interface Q0Row {
  auction: number
  bidder: number
  price: number
  dateTime: number
  extra: string
}

/** q0, pass-through: every bid, projected. Measures the source and the framework. */
export const q0: NexmarkQuery<Q0Row> = {
  name: 'q0',
  title: 'pass-through of bids',
  columns: ['auction', 'bidder', 'price', 'dateTime', 'extra'],
  deterministic: true,
  build: (events) => bids(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra })),
}
