import { bids, type NexmarkQuery } from './query.ts'

export interface Q22Row {
  auction: number
  bidder: number
  price: number
  channel: string
  dir1: string | null
  dir2: string | null
  dir3: string | null
}

/** q22, URL directories: the 4th, 5th and 6th '/'-separated parts of the URL (SPLIT_INDEX 3, 4, 5). */
export const q22: NexmarkQuery<Q22Row> = {
  name: 'q22',
  title: 'URL split into directories',
  columns: ['auction', 'bidder', 'price', 'channel', 'dir1', 'dir2', 'dir3'],
  deterministic: true,
  build: (events) =>
    bids(events).map((b): Q22Row => {
      const parts = b.url.split('/')
      return { auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, dir1: parts[3] ?? null, dir2: parts[4] ?? null, dir3: parts[5] ?? null }
    }),
}
