// Runs the example as its README says and checks its sessions against a plain computation: sort each
// user's clicks by time and cut where the silence reaches the gap.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gapMs, type Click } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const readJsonl = <T>(file: string | URL): T[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T)

interface Session {
  user: string
  start: string
  lastClick: string
  clicks: number
  pages: number
}

function referenceSessions(clicks: Click[]): Session[] {
  const byUser = Map.groupBy(clicks, (c) => c.user)
  const sessions: Session[] = []
  for (const [user, cs] of byUser) {
    const sorted = cs.toSorted((a, b) => a.ts - b.ts)
    let cur: Click[] = []
    const close = () => {
      if (cur.length > 0) sessions.push({ user, start: new Date(cur[0].ts).toISOString(), lastClick: new Date(cur.at(-1)!.ts).toISOString(), clicks: cur.length, pages: new Set(cur.map((c) => c.page)).size })
      cur = []
    }
    for (const c of sorted) {
      if (cur.length > 0 && c.ts - cur.at(-1)!.ts >= gapMs) close()
      cur.push(c)
    }
    close()
  }
  return sessions.sort((a, b) => (a.user + a.start).localeCompare(b.user + b.start))
}

test('sessionization: the sessions of every user, out-of-order clicks included', () => {
  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/sessionization/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)
  const got = readJsonl<Session & { minutes: number }>(`${out}sessions.jsonl`)
    .map(({ minutes: _m, ...s }) => s)
    .sort((a, b) => (a.user + a.start).localeCompare(b.user + b.start))
  const expected = referenceSessions(readJsonl<Click>(new URL('data/clicks.jsonl', import.meta.url)))
  assert.equal(expected.length, 15)
  assert.deepEqual(got, expected)
})
