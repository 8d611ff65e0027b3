import { window } from '../../src/index.ts'
import { bids, type NexmarkQuery } from './query.ts'
import type { SessionRow } from './q11.ts'

/**
 * q12, processing-time windows: bids per bidder per 10 s of processing time. Its results depend on how
 * fast the run goes, so it is not compared with a reference.
 */
export const q12: NexmarkQuery<SessionRow> = {
  name: 'q12',
  title: 'bids per bidder per 10 s processing-time window',
  columns: ['bidder', 'bid_count', 'starttime', 'endtime'],
  deterministic: false,
  build: (events) =>
    bids(events)
      .keyBy((b) => b.bidder)
      .window(window.tumbling({ size: '10s', time: 'processing' }))
      .count()
      .map((r) => ({ bidder: r.key, bid_count: r.value, starttime: r.start, endtime: r.end })),
}
