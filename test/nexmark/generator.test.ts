import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NexmarkGenerator, nexmark, type Auction, type Bid, type NexmarkEvent, type Person } from '../../src/connectors/nexmark/index.ts'
import { pipeline, run, sink } from '../../src/index.ts'

test('event n is a pure function of n and the config', () => {
  const a = new NexmarkGenerator()
  const b = new NexmarkGenerator()
  const forward = Array.from({ length: 500 }, (_, n) => a.event(n))
  const backward = Array.from({ length: 500 }, (_, i) => b.event(499 - i)).reverse()
  assert.deepEqual(backward, forward)
  assert.notDeepEqual(new NexmarkGenerator({ seed: 7 }).event(10), a.event(10))
})

test('1 person, 3 auctions and 46 bids per 50 events, with consecutive ids from 1000', () => {
  const g = new NexmarkGenerator()
  const events: NexmarkEvent[] = []
  g.fill(events, 0, 1, 5000)
  const people = events.filter((e): e is Person => e.type === 'person')
  const auctions = events.filter((e): e is Auction => e.type === 'auction')
  const bids = events.filter((e): e is Bid => e.type === 'bid')
  assert.deepEqual([people.length, auctions.length, bids.length], [100, 300, 4600])
  assert.deepEqual(people.map((p) => p.id), Array.from({ length: 100 }, (_, i) => 1000 + i))
  assert.deepEqual(auctions.map((a) => a.id), Array.from({ length: 300 }, (_, i) => 1000 + i))
  assert.equal(events[0].type, 'person')
  assert.deepEqual([1, 2, 3].map((i) => events[i].type), ['auction', 'auction', 'auction'])
})

test('event time advances at the configured rate from the base time', () => {
  const g = new NexmarkGenerator({ firstEventTime: 1_000_000, ratePerSecond: 1000 })
  assert.equal(g.event(0).dateTime, 1_000_000)
  assert.equal(g.event(1).dateTime, 1_000_001)
  assert.equal(g.event(12_345).dateTime, 1_012_345)
  const d = new NexmarkGenerator()
  assert.equal(d.event(0).dateTime, Date.UTC(2026, 0, 1))
  assert.equal(d.event(10_000).dateTime, Date.UTC(2026, 0, 1) + 1000)
})

test('fields follow the Nexmark distributions', () => {
  const g = new NexmarkGenerator()
  const events: NexmarkEvent[] = []
  g.fill(events, 0, 1, 200_000)
  const bids = events.filter((e): e is Bid => e.type === 'bid')
  const auctions = events.filter((e): e is Auction => e.type === 'auction')
  const people = events.filter((e): e is Person => e.type === 'person')
  for (const b of bids) {
    assert.ok(b.price >= 100 && b.price <= 100_000_000 && Number.isInteger(b.price))
    assert.ok(b.bidder >= 1000 && b.auction >= 1000)
  }
  const share = (xs: unknown[], f: (x: any) => boolean) => xs.filter(f).length / xs.length
  // Hot auction: the first of the last block of 100 auctions, half of the time (plus a few uniform hits).
  const hotAuction = share(bids, (b: Bid) => (b.auction - 1000) % 100 === 0)
  assert.ok(hotAuction > 0.48 && hotAuction < 0.56, `hot auction share ${hotAuction}`)
  const hotBidder = share(bids, (b: Bid) => (b.bidder - 1000) % 100 === 1)
  assert.ok(hotBidder > 0.73 && hotBidder < 0.78, `hot bidder share ${hotBidder}`)
  const named = share(bids, (b: Bid) => ['Google', 'Facebook', 'Baidu', 'Apple'].includes(b.channel))
  assert.ok(named > 0.48 && named < 0.52, `named channel share ${named}`)
  assert.ok(bids.every((b) => b.url.startsWith('https://www.nexmark.com/') && b.url.split('/').length === 7))
  const withId = share(bids.filter((b) => b.channel.startsWith('channel-')), (b: Bid) => b.url.includes('&channel_id='))
  assert.ok(withId > 0.85 && withId < 0.95, `channel_id share ${withId}`)
  assert.ok(auctions.every((a) => a.category >= 10 && a.category <= 14 && a.reserve >= a.initialBid && a.expires > a.dateTime))
  assert.deepEqual(new Set(people.map((p) => p.state)), new Set(['AZ', 'CA', 'ID', 'OR', 'WA', 'WY']))
  assert.ok(people.every((p) => /^\d{4} \d{4} \d{4} \d{4}$/.test(p.creditCard) && p.emailAddress.endsWith('.com')))
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const bidBytes = avg(bids.map((b) => 32 + b.extra.length))
  assert.ok(Math.abs(bidBytes - 100) < 3, `bid size ${bidBytes}`)
  const auctionBytes = avg(auctions.map((a) => 48 + a.itemName.length + a.description.length + a.extra.length))
  assert.ok(Math.abs(auctionBytes - 500) < 10, `auction size ${auctionBytes}`)
  assert.ok(people.every((p) => p.extra.length > 0 && p.name.includes(' ')))
})

test('the source yields the same events whatever the number of partitions', async () => {
  const read = async (partitions: number) => {
    const out = sink.collect<NexmarkEvent>()
    const p = pipeline('nexmark-split')
    p.from(nexmark({ events: 3001, partitions })).to(out)
    await run(p)
    return out.values.map((e) => JSON.stringify(e)).sort()
  }
  const one = await read(1)
  assert.equal(one.length, 3001)
  assert.deepEqual(await read(3), one)
  const g = new NexmarkGenerator()
  assert.deepEqual(Array.from({ length: 3001 }, (_, n) => JSON.stringify(g.event(n))).sort(), one)
})

test('a range starting at firstEvent continues the stream', async () => {
  const out = sink.collect<NexmarkEvent>()
  const p = pipeline('nexmark-range')
  p.from(nexmark({ events: 10, firstEvent: 100 })).to(out)
  await run(p)
  const g = new NexmarkGenerator()
  assert.deepEqual(out.values, Array.from({ length: 10 }, (_, i) => g.event(100 + i)))
})
