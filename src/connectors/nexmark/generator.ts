import type { NexmarkConfig } from './config.ts'
import { resolveNexmarkConfig } from './config.ts'
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts'
import { priceOf } from './price.ts'
import { EventRandom, randomText } from './random.ts'

// Proportions of one cycle of 50 events: 1 person, 3 auctions, 46 bids.
const PERSON_SHARE = 1
const AUCTION_SHARE = 3
const CYCLE = 50
const FIRST_PERSON_ID = 1000
const FIRST_AUCTION_ID = 1000
const FIRST_CATEGORY_ID = 10
const NUM_CATEGORIES = 5
const HOT_GROUP = 100
const PERSON_ID_LEAD = 10
const AUCTION_ID_LEAD = 10
const CHANNELS = 10_000
// The size of a bid without its `extra`, for padding.
const BID_BYTES = 32

const STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY']
const CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne']
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter']
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris']
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple']

// Random text is cut from two fixed pools instead of being drawn character by character: each event
// draws only an offset, and V8 makes long substrings as slices that share the pool's memory.
const POOL_SIZE = 1 << 20
const poolRng = new EventRandom()
poolRng.reset(0x6e65786d, 0)
const LETTERS = randomText(poolRng, POOL_SIZE, 0, ' ')
const SPACED = randomText(poolRng, POOL_SIZE, 13, ' ')
const NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`))
const DIGITS4 = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, '0'))

/**
 * The same string, internalized: V8 keeps one copy of it in its string table, as it does for literals in
 * code. The four hot channels' URLs are in half of all bids; internalized, they are hashed once, compare by
 * identity, and V8 reuses per-string results (a split of an internalized string is cached). The 10,000
 * other channels' URLs stay as they are: they would overflow that small cache, and each miss internalizes
 * the parts too, which costs more than it saves.
 */
function internalized(s: string): string {
  return Object.keys({ [s]: 0 })[0]
}

function reverseBits(x: number): number {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1)
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2)
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4)
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8)
  return ((x >>> 16) | (x << 16)) >>> 0
}

/** A URL of the auction site with three random directories; the same for a channel on every call. */
function channelUrl(rng: EventRandom, withChannelId: number | undefined): string {
  const dir = () => randomText(rng, 3 + rng.int(2), 13, '_')
  let url = `https://www.nexmark.com/${dir()}/${dir()}/${dir()}/item.htm?query=1`
  if (withChannelId !== undefined && rng.int(10) > 0) url += `&channel_id=${reverseBits(withChannelId)}`
  return url
}

/**
 * The Nexmark event stream, Beam-style: event `n` is a pure function of `n` and the config (its random
 * numbers come from a PRNG seeded with `n`), so any range of events, split any way, is the same.
 *
 * Event `n % 50 == 0` is a person, `1..3` an auction, the rest bids. People and auctions take consecutive
 * ids from 1000; bids go to a hot auction or bidder most of the time, otherwise to a recent one.
 */
export class NexmarkGenerator {
  readonly config: NexmarkConfig
  private readonly rng = new EventRandom()
  private readonly channelUrls: string[] = new Array(CHANNELS)
  private readonly hotUrls: string[]
  private readonly channelNames: string[] = new Array(CHANNELS)
  private readonly auctionEventsAhead: number
  // Per-config constants of the bid path, read once instead of from `config` per event.
  private readonly seed: number
  private readonly firstEventTime: number
  private readonly ratePerSecond: number
  private readonly hotAuctionRatio: number
  private readonly hotBiddersRatio: number
  private readonly numInFlightAuctions: number
  private readonly bidExtraMin: number
  private readonly bidExtraSpread: number
  private readonly avgBidBytes: number

  constructor(config: Partial<NexmarkConfig> = {}) {
    this.config = resolveNexmarkConfig(config)
    const r = new EventRandom()
    this.hotUrls = HOT_CHANNELS.map((_, i) => {
      r.reset(this.config.seed ^ 0x68a7, i)
      return internalized(channelUrl(r, undefined))
    })
    this.auctionEventsAhead = Math.floor((this.config.numInFlightAuctions * CYCLE) / AUCTION_SHARE)
    const c = this.config
    this.seed = c.seed
    this.firstEventTime = c.firstEventTime
    this.ratePerSecond = c.ratePerSecond
    this.hotAuctionRatio = c.hotAuctionRatio
    this.hotBiddersRatio = c.hotBiddersRatio
    this.numInFlightAuctions = c.numInFlightAuctions
    const want = c.avgBidBytes - BID_BYTES
    const delta = Math.round(want * 0.2)
    this.bidExtraMin = want - delta
    this.bidExtraSpread = 2 * delta
    this.avgBidBytes = c.avgBidBytes
  }

  /** Event time of event `n`, epoch ms. */
  timestamp(n: number): number {
    return this.firstEventTime + Math.floor((n * 1000) / this.ratePerSecond)
  }

  /** Event `n` (from 0). */
  event(n: number): NexmarkEvent {
    this.rng.reset(this.seed, n)
    const rem = n % CYCLE
    if (rem < PERSON_SHARE) return this.person(n)
    if (rem < PERSON_SHARE + AUCTION_SHARE) return this.auction(n, rem)
    return this.bid(n, (n - rem) / CYCLE)
  }

  /** Events from, from + step, ... (`count` of them) appended to `out`. */
  fill(out: NexmarkEvent[], from: number, step: number, count: number): void {
    // Stores at the end rather than push: a fresh array's first event changes its elements kind, which
    // keeps V8 from inlining push.
    let k = out.length
    for (let i = 0, n = from; i < count; i++, n += step) out[k++] = this.event(n)
  }

  // Last person id created at or before event n, without the first-id offset.
  private lastPerson(n: number): number {
    return Math.floor(n / CYCLE) * PERSON_SHARE + Math.min(n % CYCLE, PERSON_SHARE - 1)
  }

  private lastAuction(n: number): number {
    const epoch = Math.floor(n / CYCLE)
    const off = n % CYCLE
    if (off < PERSON_SHARE) return (epoch - 1) * AUCTION_SHARE + AUCTION_SHARE - 1
    if (off >= PERSON_SHARE + AUCTION_SHARE) return epoch * AUCTION_SHARE + AUCTION_SHARE - 1
    return epoch * AUCTION_SHARE + off - PERSON_SHARE
  }

  // A random recently active person, a few ids ahead of the last one allowed.
  private activePerson(n: number): number {
    const people = this.lastPerson(n) + 1
    const active = Math.min(people, this.config.numActivePeople)
    return people - active + this.rng.int(active + PERSON_ID_LEAD)
  }

  private price(): number {
    return priceOf(this.rng.nextBits())
  }

  // Letters with a space now and then, 3 to max-1 long, trimmed.
  private text(max: number): string {
    const len = 3 + this.rng.int(max - 3)
    const off = this.rng.int(POOL_SIZE - len)
    return SPACED.substring(off, off + len).trim()
  }

  // Pads an event of `size` bytes to about `avg` bytes (+/- 20%).
  private extra(size: number, avg: number): string {
    if (size > avg) return ''
    const want = avg - size
    const delta = Math.round(want * 0.2)
    const len = want - delta + (delta === 0 ? 0 : this.rng.int(2 * delta))
    const off = this.rng.int(POOL_SIZE - len)
    return LETTERS.substring(off, off + len)
  }

  private person(n: number): Person {
    const rng = this.rng
    const name = NAMES[rng.int(NAMES.length)]
    const emailAddress = `${this.text(7)}@${this.text(5)}.com`
    const creditCard = `${DIGITS4[rng.int(10_000)]} ${DIGITS4[rng.int(10_000)]} ${DIGITS4[rng.int(10_000)]} ${DIGITS4[rng.int(10_000)]}`
    const city = CITIES[rng.int(CITIES.length)]
    const state = STATES[rng.int(STATES.length)]
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length
    return {
      type: 'person',
      id: this.lastPerson(n) + FIRST_PERSON_ID,
      name,
      emailAddress,
      creditCard,
      city,
      state,
      dateTime: this.timestamp(n),
      extra: this.extra(size, this.config.avgPersonBytes),
    }
  }

  private auction(n: number, rem: number): Auction {
    const rng = this.rng
    const c = this.config
    const id = Math.floor(n / CYCLE) * AUCTION_SHARE + rem - PERSON_SHARE + FIRST_AUCTION_ID
    const seller = (rng.int(c.hotSellersRatio) > 0 ? Math.floor(this.lastPerson(n) / HOT_GROUP) * HOT_GROUP : this.activePerson(n)) + FIRST_PERSON_ID
    const category = FIRST_CATEGORY_ID + rng.int(NUM_CATEGORIES)
    const initialBid = this.price()
    const dateTime = this.timestamp(n)
    // Auctions last on average as long as it takes to create numInFlightAuctions more of them.
    const horizon = this.timestamp(n + this.auctionEventsAhead) - dateTime
    const expires = dateTime + 1 + rng.int(Math.max(horizon * 2, 1))
    const itemName = this.text(20)
    const description = this.text(100)
    const reserve = initialBid + this.price()
    const size = 8 + itemName.length + description.length + 40
    return { type: 'auction', id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra: this.extra(size, c.avgAuctionBytes) }
  }

  // A bid is event n = epoch * CYCLE + rem with rem past the person and auctions: the last person and
  // auction are those of its own epoch (as `lastPerson` and `lastAuction` compute).
  private bid(n: number, epoch: number): Bid {
    const rng = this.rng
    const lastAuction = epoch * AUCTION_SHARE + AUCTION_SHARE - 1
    let auction: number
    if (rng.int(this.hotAuctionRatio) > 0) {
      auction = Math.floor(lastAuction / HOT_GROUP) * HOT_GROUP
    } else {
      const min = Math.max(lastAuction - this.numInFlightAuctions, 0)
      auction = min + rng.int(lastAuction - min + 1 + AUCTION_ID_LEAD)
    }
    auction += FIRST_AUCTION_ID
    const lastPerson = epoch * PERSON_SHARE + PERSON_SHARE - 1
    const bidder = (rng.int(this.hotBiddersRatio) > 0 ? Math.floor(lastPerson / HOT_GROUP) * HOT_GROUP + 1 : this.activePerson(n)) + FIRST_PERSON_ID
    const price = priceOf(rng.nextBits())
    let channel: string
    let url: string
    if (rng.int(2) > 0) {
      const i = rng.int(HOT_CHANNELS.length)
      channel = HOT_CHANNELS[i]
      url = this.hotUrls[i]
    } else {
      const i = rng.int(CHANNELS)
      channel = this.channelNames[i] ??= `channel-${i}`
      url = this.channelUrls[i] ??= this.newChannelUrl(i)
    }
    const dateTime = this.firstEventTime + Math.floor((n * 1000) / this.ratePerSecond)
    // extra(BID_BYTES, avgBidBytes), its constants precomputed.
    let extra = ''
    if (BID_BYTES <= this.avgBidBytes) {
      const len = this.bidExtraMin + (this.bidExtraSpread === 0 ? 0 : rng.int(this.bidExtraSpread))
      const off = rng.int(POOL_SIZE - len)
      extra = LETTERS.substring(off, off + len)
    }
    return { type: 'bid', auction, bidder, price, channel, url, dateTime, extra }
  }

  private newChannelUrl(i: number): string {
    const r = new EventRandom()
    r.reset(this.config.seed ^ 0x2f1b, i)
    return channelUrl(r, i)
  }
}
