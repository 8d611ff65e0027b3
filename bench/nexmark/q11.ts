import { window } from '../../src/index.ts'
import { bids, type NexmarkQuery } from './query.ts'

export interface SessionRow {
  bidder: number
  bid_count: number
  starttime: number
  endtime: number
}

/** q11, user sessions: bids per bidder per session (a session ends after 10 s without a bid). */
export const q11: NexmarkQuery<SessionRow> = {
  name: 'q11',
  title: 'bids per bidder per session window (10 s gap)',
  columns: ['bidder', 'bid_count', 'starttime', 'endtime'],
  identity: (r) => `${r.bidder}@${r.starttime}`,
  deterministic: true,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.bidder)
      .window(window.session({ gap: '10s' }))
      .count()
      .map((r) => ({ bidder: r.key, bid_count: r.value, starttime: r.start, endtime: r.end })),
}
