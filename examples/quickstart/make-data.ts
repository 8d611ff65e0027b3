// Writes clicks.jsonl: a deterministic sample clickstream for the quickstart pipeline.
//   node examples/quickstart/make-data.ts
// About 45 minutes of event time from 2024-05-01T09:00:00Z: users browse in sessions (bursts of events
// a few seconds apart, then a pause of several minutes). Lines are in arrival order: most events arrive
// on time, some up to 4 s out of order, four arrive just after their session closed (within its
// allowed lateness), six minutes late, and five lines are malformed (three are not JSON, two have no `ts`).
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Click {
  userId: string
  page: string
  kind: 'view' | 'click'
  /** Event time, epoch milliseconds. */
  ts: number
  referrer?: string
}

const START = Date.UTC(2024, 4, 1, 9, 0, 0)
const SPAN = 45 * 60_000
const USERS = 120
const pages = ['/', '/pricing', '/docs', '/docs/quickstart', '/docs/windows', '/blog', '/blog/event-time', '/signup']
const referrers = ['google', 'newsletter', 'direct', 'github']

/** mulberry32: small, fast, and the same numbers on every machine for the same seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = rng(20240501)
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]

interface Arrival {
  line: string
  at: number
}

const events: Arrival[] = []
const lastOfSession: Click[] = []
const sessionBounds: { userId: string; first: number; last: number }[] = []
for (let u = 1; u <= USERS; u++) {
  const userId = `u${String(u).padStart(3, '0')}`
  let t = START + int(0, 30 * 60_000)
  while (t < START + SPAN) {
    const n = int(3, 20)
    let c: Click | undefined
    const first = t
    for (let i = 0; i < n && t < START + SPAN; i++) {
      c = { userId, page: pick(pages), kind: random() < 0.25 ? 'click' : 'view', ts: t }
      if (i === 0) c.referrer = pick(referrers)
      // Most events arrive at once; some up to 4 s late, inside the 5 s the watermark allows for.
      const delay = random() < 0.15 ? int(1, 4000) : 0
      events.push({ line: JSON.stringify(c), at: t + delay })
      t += int(2, 60) * 1000 + int(0, 999)
    }
    if (c !== undefined) {
      lastOfSession.push(c)
      sessionBounds.push({ userId, first, last: c.ts })
    }
    t += int(6, 15) * 60_000
  }
}

// Late events: one more event 10 s after the end of some sessions, arriving 6 to 9 minutes later, when
// the session (5 min gap + 30 s allowed lateness) and its minute have long been closed.
for (let late = 0; late < 6; ) {
  const s = lastOfSession[int(0, lastOfSession.length - 1)]
  const c: Click = { userId: s.userId, page: pick(pages), kind: 'view', ts: s.ts + 10_000 }
  if (c.ts + 9 * 60_000 >= START + SPAN) continue
  events.push({ line: JSON.stringify(c), at: c.ts + int(6, 9) * 60_000 })
  late++
}

// Slightly late events: a view in the middle of a session that arrives 10 s after the session closed,
// within its 30 s of allowed lateness, so the session's result is updated (-U/+U).
for (let late = 0; late < 4; ) {
  const s = sessionBounds[int(0, sessionBounds.length - 1)]
  if (s.last - s.first < 60_000 || s.last + 6 * 60_000 >= START + SPAN) continue
  const c: Click = { userId: s.userId, page: pick(pages), kind: 'view', ts: s.first + 30_000 }
  events.push({ line: JSON.stringify(c), at: s.last + 5 * 60_000 + 15_000 })
  late++
}

events.sort((a, b) => a.at - b.at)
const lines = events.map((e) => e.line)

// Malformed lines, spread through the file.
const malformed = [
  '{"userId":"u007","page":"/docs","kind":"view","ts":17145',
  'GET /pricing HTTP/1.1',
  '{"userId":"u012","page":"/blog","kind":"view","ts":1714554600000,}',
  '{"userId":"u033","page":"/signup","kind":"click"}',
  '{"userId":"u041","page":"/","kind":"view","time":"2024-05-01T09:20:00Z"}',
]
malformed.forEach((m, i) => lines.splice(Math.floor(((i + 1) * lines.length) / (malformed.length + 1)), 0, m))

const file = fileURLToPath(new URL('./clicks.jsonl', import.meta.url))
writeFileSync(file, lines.join('\n') + '\n')
process.stdout.write(`wrote ${lines.length} lines to clicks.jsonl\n`)
