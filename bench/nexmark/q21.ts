import { bids, type NexmarkQuery } from './query.ts'

export interface Q21Row {
  auction: number
  bidder: number
  price: number
  channel: string
  channel_id: string
}

const KEY = 'channel_id='

/** REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2): the first value of a channel_id parameter, or null. */
export function channelIdOf(url: string): string | null {
  for (let i = url.indexOf(KEY); i >= 0; i = url.indexOf(KEY, i + 1)) {
    if (i === 0 || url.charCodeAt(i - 1) === 38 /* & */) {
      const from = i + KEY.length
      const to = url.indexOf('&', from)
      return to < 0 ? url.slice(from) : url.slice(from, to)
    }
  }
  return null
}

const named: Record<string, string> = { apple: '0', google: '1', facebook: '2', baidu: '3' }

/** q21, add channel id: a channel id from the channel's name or from the URL; bids with neither are dropped. */
export const q21: NexmarkQuery<Q21Row> = {
  name: 'q21',
  title: 'channel id by CASE on the channel or regexp extraction from the URL',
  columns: ['auction', 'bidder', 'price', 'channel', 'channel_id'],
  deterministic: true,
  build: (events) =>
    bids(events).flatMap((b) => {
      const id = named[b.channel.toLowerCase()] ?? channelIdOf(b.url)
      return id === null ? [] : [{ auction: b.auction, bidder: b.bidder, price: b.price, channel: b.channel, channel_id: id }]
    }),
}
