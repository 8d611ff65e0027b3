import { bids, type NexmarkQuery } from './query.ts'
import type { Q0Row } from './q0.ts'

/** q1, currency conversion: bid prices in euros (0.908 per dollar, 3 decimals as DECIMAL(23, 3)). */
export const q1: NexmarkQuery<Q0Row> = {
  name: 'q1',
  title: 'price converted to euros',
  columns: ['auction', 'bidder', 'price', 'dateTime', 'extra'],
  deterministic: true,
  // price * 908 is an exact integer; one division gives the double nearest the exact decimal.
  build: (events) => bids(events).map((b) => ({ auction: b.auction, bidder: b.bidder, price: (b.price * 908) / 1000, dateTime: b.dateTime, extra: b.extra })),
}
