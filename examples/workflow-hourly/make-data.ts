// Drops one file of page views per hour for the first week of 2026 into out/drop/ (deterministic), as an
// upstream system would: out/drop/2026-01-01T00.jsonl ... out/drop/2026-01-07T23.jsonl.
//   node examples/workflow-hourly/make-data.ts [hours]
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface View {
  page: string
  userId: string
  /** Event time, epoch milliseconds. */
  ts: number
}

export const START = Date.UTC(2026, 0, 1)
const PAGES = ['/', '/pricing', '/docs', '/blog', '/signup']

/** Writes `hours` hourly files from START and returns how many views each page got per hour. */
export function makeData(hours = 7 * 24): Map<string, number> {
  const dir = fileURLToPath(new URL('out/drop/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const counts = new Map<string, number>()
  let seed = 7
  const rnd = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647
  for (let h = 0; h < hours; h++) {
    const hourStart = START + h * 3_600_000
    const key = new Date(hourStart).toISOString().slice(0, 13)
    const n = 20 + Math.floor(rnd() * 40)
    const lines: string[] = []
    for (let i = 0; i < n; i++) {
      const v: View = { page: PAGES[Math.floor(rnd() * PAGES.length)]!, userId: `u${Math.floor(rnd() * 50)}`, ts: hourStart + Math.floor((i / n) * 3_600_000) }
      lines.push(JSON.stringify(v))
      counts.set(`${key} ${v.page}`, (counts.get(`${key} ${v.page}`) ?? 0) + 1)
    }
    writeFileSync(`${dir}${key}.jsonl`, `${lines.join('\n')}\n`)
  }
  return counts
}

if (process.argv[1] === fileURLToPath(import.meta.url)) makeData(process.argv[2] === undefined ? undefined : Number(process.argv[2]))
