// Writes data/bids.jsonl: two minutes of bids from a producer that keeps the contract, then a third minute
// from a new release of the producer that breaks it (prices in cents as strings, a new channel, no bidder,
// the same bidders again and again).
//   node examples/contracts-bids/make-data.ts
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const start = Date.UTC(2024, 5, 1, 12, 0, 0)
const lines: string[] = []
for (let i = 0; i < 45; i++) {
  const ts = start + i * 4_000
  const bid: Record<string, unknown> = { auction: 100 + (i % 7), bidder: i < 30 ? 2000 + i : 2000 + (i % 2), email: `user${i}@example.com`, price: 40 + ((i * 37) % 160), channel: ['web', 'app', 'partner'][i % 3], ts }
  if (i >= 30) {
    // the new release
    if (i % 3 === 0) bid.price = String(Number(bid.price) * 100)
    if (i % 3 === 1) bid.channel = 'kiosk'
    if (i % 5 === 2) delete bid.bidder
  }
  lines.push(JSON.stringify(bid))
}
writeFileSync(fileURLToPath(new URL('data/bids.jsonl', import.meta.url)), lines.join('\n') + '\n')
