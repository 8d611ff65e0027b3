// Runs the quickstart as the README says and checks the numbers the README shows.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const lines = (name: string) => readFileSync(new URL(`out/${name}`, import.meta.url), 'utf8').trim().split('\n')

test('quickstart: the summary and outputs the README shows', () => {
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/quickstart/pipeline.ts', '--json'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout.trim()) as { recordsIn: number; late: number; errors: number; dropped: number; steps: { step: string; out: number }[] }
  assert.deepEqual([s.recordsIn, s.late, s.errors, s.dropped], [2841, 16, 5, 0])
  const out = Object.fromEntries(s.steps.map((m) => [m.step, m.out]))
  assert.deepEqual([out.sessions, out['page-counts']], [285, 345])
  assert.deepEqual([lines('sessions.jsonl').length, lines('page-counts.jsonl').length, lines('late.jsonl').length, lines('errors.jsonl').length], [285, 345, 16, 5])
  assert.deepEqual(JSON.parse(lines('errors.jsonl')[0]), { step: 'source-jsonl-1', position: 'examples/quickstart/clicks.jsonl:474', error: 'not valid JSON (column 57)' })
})
