import type { Bid } from '../../src/connectors/nexmark/index.ts'
import { bids, type NexmarkQuery } from './query.ts'
import { bidRow, type BidRow } from './q18.ts'

export type Q19Row = BidRow & { rank_number: number }

const N = 10

/**
 * q19, auction top-10 price: the 10 highest bids of each auction, numbered. Emitted as an upsert stream:
 * when a bid enters the top 10, the rows of every rank it moves down are emitted again; the final results
 * are the last row per (auction, rank_number). Of equal prices the earlier bid ranks first.
 */
export const q19: NexmarkQuery<Q19Row> = {
  name: 'q19',
  title: 'top-10 bids per auction',
  columns: ['auction', 'bidder', 'price', 'channel', 'url', 'dateTime', 'extra', 'rank_number'],
  identity: (r) => `${r.auction}|${r.rank_number}`,
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.auction)
      .process<Q19Row>({
        processElement(b, ctx) {
          const state = ctx.state.value<Bid[]>('top')
          const top = state.get() ?? []
          if (top.length === N && b.price <= top[N - 1].price) return
          let i = top.length
          while (i > 0 && b.price > top[i - 1].price) i--
          top.splice(i, 0, b)
          if (top.length > N) top.length = N
          // Set again after a change: a store that copies values (the durable one) keeps only what is set.
          state.set(top)
          for (let r = i; r < top.length; r++) ctx.emit({ ...bidRow(top[r]), rank_number: r + 1 })
        },
      }),
}
