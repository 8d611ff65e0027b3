/**
 * A new user of the auction site. Times are epoch milliseconds.
 * @example const people = p.from(source.nexmark()).flatMap((e) => (e.type === 'person' ? [e] : [])) // Stream<Person>
 */
export interface Person {
  type: 'person'
  id: number
  name: string
  emailAddress: string
  creditCard: string
  city: string
  state: string
  dateTime: number
  extra: string
}

/**
 * An item put up for auction; it takes bids from `dateTime` until `expires`.
 * @example const auctions = p.from(source.nexmark()).flatMap((e) => (e.type === 'auction' ? [e] : [])) // Stream<Auction>
 */
export interface Auction {
  type: 'auction'
  id: number
  itemName: string
  description: string
  initialBid: number
  reserve: number
  dateTime: number
  expires: number
  seller: number
  category: number
  extra: string
}

/**
 * A bid of `bidder` on `auction`, placed through `channel`.
 * @example const bids = p.from(source.nexmark()).flatMap((e) => (e.type === 'bid' ? [e] : [])) // Stream<Bid>
 */
export interface Bid {
  type: 'bid'
  auction: number
  bidder: number
  price: number
  channel: string
  url: string
  dateTime: number
  extra: string
}

/**
 * One Nexmark event; `type` tells which.
 * @example p.from(source.nexmark({ events: 10_000 })).map((e: NexmarkEvent) => e.type) // 'person' | 'auction' | 'bid'
 */
export type NexmarkEvent = Person | Auction | Bid

export const isPerson = (e: NexmarkEvent): e is Person => e.type === 'person'
export const isAuction = (e: NexmarkEvent): e is Auction => e.type === 'auction'
export const isBid = (e: NexmarkEvent): e is Bid => e.type === 'bid'
