import type { Stream } from '../../src/index.ts'
import type { Auction, Bid, NexmarkEvent, Person } from '../../src/connectors/nexmark/index.ts'

/** One Nexmark query, written with the public pipeline API. */
export interface NexmarkQuery<R extends object = object> {
  name: string
  /** What it computes, in a line. */
  title: string
  /** Result columns, in output order (the Flink SQL columns). */
  columns: readonly string[]
  /**
   * For updating results: what identifies a row. The final results are the last row per identity once the
   * input ends (the changelog materialised). Append-only queries leave it out.
   */
  identity?: (row: R) => unknown
  /** False for queries whose results depend on processing time (q12): not comparable run to run. */
  deterministic: boolean
  build(events: Stream<NexmarkEvent>): Stream<R>
}

export const bids = (events: Stream<NexmarkEvent>): Stream<Bid> => events.filter((e): e is Bid => e.type === 'bid')
export const auctions = (events: Stream<NexmarkEvent>): Stream<Auction> => events.filter((e): e is Auction => e.type === 'auction')
export const persons = (events: Stream<NexmarkEvent>): Stream<Person> => events.filter((e): e is Person => e.type === 'person')

/** State kept by the unwindowed joins: long enough never to expire within a benchmark run. */
export const JOIN_TTL = '3650d'

const DAY = 86_400_000
const dayNames = new Map<number, string>()

/** 'yyyy-MM-dd' (UTC) of day number `d` since the epoch. */
export function dayName(d: number): string {
  let s = dayNames.get(d)
  if (s === undefined) dayNames.set(d, (s = new Date(d * DAY).toISOString().slice(0, 10)))
  return s
}

export const dayOf = (ts: number): number => Math.floor(ts / DAY)

/** 'HH:mm' of a minute of the day. */
export function minuteName(m: number): string {
  const h = Math.floor(m / 60)
  const mm = m % 60
  return `${h < 10 ? '0' : ''}${h}:${mm < 10 ? '0' : ''}${mm}`
}
