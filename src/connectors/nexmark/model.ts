/** A new user of the auction site. Times are epoch milliseconds. */
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

/** An item put up for auction; it takes bids from `dateTime` until `expires`. */
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

/** A bid of `bidder` on `auction`, placed through `channel`. */
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

/** One Nexmark event; `type` tells which. */
export type NexmarkEvent = Person | Auction | Bid

export const isPerson = (e: NexmarkEvent): e is Person => e.type === 'person'
export const isAuction = (e: NexmarkEvent): e is Auction => e.type === 'auction'
export const isBid = (e: NexmarkEvent): e is Bid => e.type === 'bid'
