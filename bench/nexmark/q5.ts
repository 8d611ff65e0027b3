import { window } from '../../src/index.ts'
import { bids, type NexmarkQuery } from './query.ts'

export interface Q5Row {
  auction: number
  num: number
  window_start: number
  window_end: number
}

interface Hottest {
  max: number
  rows: Q5Row[]
}

/**
 * q5, hot items: bids per auction in 10 s windows sliding by 2 s, and in each window the auctions with the
 * most bids. The per-window maximum is kept per window start and emitted when the watermark passes the
 * window's end, once every count of that window has arrived.
 */
export const q5: NexmarkQuery<Q5Row> = {
  name: 'q5',
  title: 'auctions with the most bids per 10 s window sliding every 2 s',
  columns: ['auction', 'num', 'window_start', 'window_end'],
  deterministic: true,
  build(events) {
    return bids(events)
      .keyBy((b) => b.auction)
      .window(window.sliding({ size: '10s', slide: '2s' }))
      .count()
      .keyBy((r) => r.start)
      .process<Q5Row>({
        processElement(r, ctx) {
          const state = ctx.state.value<Hottest>('hottest')
          const row = { auction: r.key, num: r.value, window_start: r.start, window_end: r.end }
          const h = state.get()
          if (h === undefined) {
            state.set({ max: r.value, rows: [row] })
            ctx.timers.eventTime(r.end - 1)
          } else if (r.value > h.max) {
            // Set again after a change: a store that copies values (the durable one) keeps only what is set.
            state.set({ max: r.value, rows: [row] })
          } else if (r.value === h.max) {
            h.rows.push(row)
            state.set(h)
          }
        },
        onTimer(_time, ctx) {
          const state = ctx.state.value<Hottest>('hottest')
          for (const row of state.get()?.rows ?? []) ctx.emit(row)
          state.clear()
        },
      })
  },
}
