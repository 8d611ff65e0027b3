import { userError } from '../../core/errors.ts'

/** How the Nexmark generator shapes its events. Every field has a default; see `nexmarkDefaults`. */
export interface NexmarkConfig {
  /** Event time of event 0, epoch ms. */
  firstEventTime: number
  /** Events per second of event time: event n happens at `firstEventTime + floor(n * 1000 / rate)`. */
  ratePerSecond: number
  /** Mixed into every event's random numbers; another seed gives another (equally valid) event stream. */
  seed: number
  /** A bid goes to the hot auction with probability 1 - 1/ratio. */
  hotAuctionRatio: number
  /** An auction is sold by the hot seller with probability 1 - 1/ratio. */
  hotSellersRatio: number
  /** A bid is placed by the hot bidder with probability 1 - 1/ratio. */
  hotBiddersRatio: number
  /** People who may still bid or sell: the most recent ones. */
  numActivePeople: number
  /** Auctions that may still take bids: the most recent ones. */
  numInFlightAuctions: number
  /** Average serialised size each event is padded to with `extra`, in bytes. */
  avgPersonBytes: number
  avgAuctionBytes: number
  avgBidBytes: number
}

/** 2026-01-01T00:00:00Z: fixed, so that every run generates the same events. */
export const NEXMARK_BASE_TIME = Date.UTC(2026, 0, 1)

/** The defaults shared by the benchmark, the source and `sluice nexmark generate`. */
export const nexmarkDefaults: Readonly<NexmarkConfig> = Object.freeze({
  firstEventTime: NEXMARK_BASE_TIME,
  ratePerSecond: 10_000,
  seed: 0,
  hotAuctionRatio: 2,
  hotSellersRatio: 4,
  hotBiddersRatio: 4,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  avgPersonBytes: 200,
  avgAuctionBytes: 500,
  avgBidBytes: 100,
})

/** Fills in defaults and checks the values. */
export function resolveNexmarkConfig(partial: Partial<NexmarkConfig> = {}): NexmarkConfig {
  const c: NexmarkConfig = { ...nexmarkDefaults }
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v
  const positive: (keyof NexmarkConfig)[] = ['ratePerSecond', 'hotAuctionRatio', 'hotSellersRatio', 'hotBiddersRatio', 'numActivePeople', 'numInFlightAuctions', 'avgPersonBytes', 'avgAuctionBytes', 'avgBidBytes']
  for (const k of positive) {
    if (typeof c[k] !== 'number' || !(c[k] > 0) || !Number.isFinite(c[k])) throw userError('SLUICE_BAD_OPTION', `nexmark: ${k} must be a positive number, got ${String(c[k])}`)
  }
  for (const k of ['hotAuctionRatio', 'hotSellersRatio', 'hotBiddersRatio', 'numActivePeople', 'numInFlightAuctions'] as const) {
    if (!Number.isInteger(c[k])) throw userError('SLUICE_BAD_OPTION', `nexmark: ${k} must be an integer, got ${c[k]}`)
  }
  if (!Number.isInteger(c.firstEventTime)) throw userError('SLUICE_BAD_OPTION', `nexmark: firstEventTime must be integer epoch milliseconds, got ${c.firstEventTime}`)
  if (!Number.isInteger(c.seed)) throw userError('SLUICE_BAD_OPTION', `nexmark: seed must be an integer, got ${c.seed}`)
  return c
}
