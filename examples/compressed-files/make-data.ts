// Writes the example's compressed inputs (deterministic; committed, so running this is only needed to change them):
//   data/views-1.jsonl.gz   600 page views (one a second from 2024-05-01T00:00Z), gzip in two members (as a rotated log that was appended to)
//   data/views-2.jsonl.gz   400 more, one member
//   data/orders.csv.zst     300 orders over 100 minutes, zstd (Node.js 22.15 or later)
//   node examples/compressed-files/make-data.ts
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync, zstdCompressSync } from 'node:zlib'

export const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup']
export const COUNTRIES = ['DE', 'FR', 'NL', 'PL']

export interface View {
  page: string
  user: string
  ts: number
}

export function views(from: number, n: number): View[] {
  return Array.from({ length: n }, (_, i) => ({ page: PAGES[(from + i) % 7 % PAGES.length], user: `u${(from + i) % 37}`, ts: Date.UTC(2024, 4, 1) + (from + i) * 1000 }))
}

export function orders(): { id: string; country: string; cents: number; ts: number }[] {
  return Array.from({ length: 300 }, (_, i) => ({ id: `o${i}`, country: COUNTRIES[(i * 7) % 11 % COUNTRIES.length], cents: 100 + ((i * 37) % 900), ts: Date.UTC(2024, 4, 1) + i * 20_000 }))
}

const lines = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + '\n').join('')

export function makeData(): void {
  const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
  writeFileSync(here('data/views-1.jsonl.gz'), Buffer.concat([gzipSync(lines(views(0, 350))), gzipSync(lines(views(350, 250)))]))
  writeFileSync(here('data/views-2.jsonl.gz'), gzipSync(lines(views(600, 400))))
  const csv = 'id,country,cents,ts\n' + orders().map((o) => `${o.id},${o.country},${o.cents},${o.ts}`).join('\n') + '\n'
  writeFileSync(here('data/orders.csv.zst'), zstdCompressSync(Buffer.from(csv)))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) makeData()
