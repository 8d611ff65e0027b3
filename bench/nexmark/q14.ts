import { bids, type NexmarkQuery } from './query.ts'

export interface Q14Row {
  auction: number
  bidder: number
  price: number
  bidTimeType: string
  dateTime: number
  extra: string
  c_counts: number
}

const HOUR = 3_600_000

/** The count_char UDF of the Nexmark suite: occurrences of one character. */
function countChar(s: string, c: string): number {
  let n = 0
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++
  return n
}

function bidTimeType(ts: number): string {
  const h = Math.floor(ts / HOUR) % 24
  if (h >= 8 && h <= 18) return 'dayTime'
  if (h <= 6 || h >= 20) return 'nightTime'
  return 'otherTime'
}

/** q14, calculation: bids in a euro price band, with a CASE on the hour (UTC) and a UDF. */
export const q14: NexmarkQuery<Q14Row> = {
  name: 'q14',
  title: 'projection with CASE on the hour and a count_char UDF',
  columns: ['auction', 'bidder', 'price', 'bidTimeType', 'dateTime', 'extra', 'c_counts'],
  deterministic: true,
  build: (events) =>
    bids(events)
      .filter((b) => b.price * 908 > 1_000_000_000 && b.price * 908 < 50_000_000_000)
      .map((b) => ({ auction: b.auction, bidder: b.bidder, price: (b.price * 908) / 1000, bidTimeType: bidTimeType(b.dateTime), dateTime: b.dateTime, extra: b.extra, c_counts: countChar(b.extra, 'c') })),
}
