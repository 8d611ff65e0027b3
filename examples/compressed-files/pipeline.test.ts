// Runs the example as its README says and checks both outputs against counts and sums computed from the rows
// make-data.ts wrote (the committed files are its output).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as zlib from 'node:zlib'
import { orders, views } from './make-data.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const hour = (ms: number) => new Date(ms).toISOString().slice(0, 13) + ':00Z'
const read = (file: string) => readFileSync(`${out}${file}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort()

test('compressed-files: views per page from two gzip files (one of two members), revenue per country from zstd CSV', { skip: typeof zlib.zstdCompressSync !== 'function' && 'this Node.js has no zstd' }, () => {
  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/compressed-files/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)

  const perPage = new Map<string, number>()
  for (const v of views(0, 1000)) perPage.set(`${v.page} ${hour(v.ts)}`, (perPage.get(`${v.page} ${hour(v.ts)}`) ?? 0) + 1)
  assert.deepEqual(sorted(read('views.jsonl')), sorted([...perPage].map(([k, views]) => ({ page: k.split(' ')[0], hour: k.split(' ')[1], views }))))

  const perCountry = new Map<string, number>()
  for (const o of orders()) perCountry.set(`${o.country} ${hour(o.ts)}`, (perCountry.get(`${o.country} ${hour(o.ts)}`) ?? 0) + o.cents)
  assert.deepEqual(sorted(read('revenue.jsonl')), sorted([...perCountry].map(([k, cents]) => ({ country: k.split(' ')[0], hour: k.split(' ')[1], cents }))))
  rmSync(out, { recursive: true, force: true })
})
