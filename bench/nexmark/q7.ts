import type { Bid } from '../../src/connectors/nexmark/index.ts'
import { bids, type NexmarkQuery } from './query.ts'

export interface Q7Row {
  auction: number
  price: number
  bidder: number
  dateTime: number
}

interface Window {
  max: number
  /** Bids at the window's highest price so far. */
  top: Bid[]
  /** Bids exactly at the window's start: they also count for the previous window (BETWEEN is inclusive). */
  atStart: Bid[]
}

const SIZE = 10_000

/**
 * q7, highest bid: the bids at the highest price of each 10 s tumbling window. As in the Flink SQL, a bid
 * matches the window [end - 10 s, end] inclusive, so a bid exactly at `end` at the window's top price is
 * reported too. One keyed function (a single key) holds each open window until the watermark passes its end.
 */
export const q7: NexmarkQuery<Q7Row> = {
  name: 'q7',
  title: 'highest bid per 10 s tumbling window',
  columns: ['auction', 'price', 'bidder', 'dateTime'],
  deterministic: true,
  build(events) {
    return bids(events)
      .keyBy(() => 0)
      .process<Q7Row>({
        processElement(b, ctx) {
          const windows = ctx.state.map<number, Window>('windows')
          const start = b.dateTime - (b.dateTime % SIZE)
          let w = windows.get(start)
          if (w === undefined) {
            windows.set(start, (w = { max: b.price, top: [b], atStart: [] }))
            ctx.timers.eventTime(start + SIZE)
          } else if (b.price > w.max) {
            w.max = b.price
            w.top = [b]
          } else if (b.price === w.max) {
            w.top.push(b)
          }
          if (b.dateTime === start) w.atStart.push(b)
          // Set again after a change: a store that copies values (the durable one) keeps only what is set.
          windows.set(start, w)
        },
        onTimer(end, ctx) {
          const windows = ctx.state.map<number, Window>('windows')
          const w = windows.get(end - SIZE)
          if (w === undefined) return
          const next = windows.get(end)
          const out = next === undefined ? w.top : w.top.concat(next.atStart.filter((b) => b.price === w.max))
          for (const b of out) ctx.emit({ auction: b.auction, price: b.price, bidder: b.bidder, dateTime: b.dateTime })
          windows.delete(end - SIZE)
        },
      })
  },
}
