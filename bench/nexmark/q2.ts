import { bids, type NexmarkQuery } from './query.ts'

/** q2, selection: bids on every 123rd auction. */
export const q2: NexmarkQuery<{ auction: number; price: number }> = {
  name: 'q2',
  title: 'bids whose auction id is a multiple of 123',
  columns: ['auction', 'price'],
  deterministic: true,
  build: (events) =>
    bids(events)
      .filter((b) => b.auction % 123 === 0)
      .map((b) => ({ auction: b.auction, price: b.price })),
}
