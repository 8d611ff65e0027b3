// Backfills the example's first week as its README says, and checks the DuckDB table against the views
// counted from the dropped files directly; a second backfill finds nothing left to run.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { makeData } from './make-data.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const sluice = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/sluice.js', 'workflow', ...args, 'examples/workflow-hourly/workflow.ts', '--store', 'examples/workflow-hourly/out/runs.db'], { cwd: root, encoding: 'utf8', timeout: 600_000 })

test('workflow-hourly: a week backfilled hour by hour lands in DuckDB, exactly once', { timeout: 600_000 }, async () => {
  rmSync(out, { recursive: true, force: true })
  const expected = makeData()
  const week = ['--from', '2026-01-01T00', '--to', '2026-01-07T23']
  const dry = sluice('backfill', ...week, '--dry-run')
  assert.equal(dry.status, 0, dry.stderr)
  assert.match(dry.stdout, /would run 672 task runs over 168 partitions/)
  const r = sluice('backfill', ...week, '--concurrency', '4')
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^672 succeeded$/m)
  assert.match(r.stderr, /672\/672 runs succeeded/)

  const db = await DuckDBInstance.create(`${out}views.duckdb`)
  const c = await db.connect()
  try {
    const rows = (await c.runAndReadAll('SELECT hour, page, views::INT AS views FROM page_views')).getRowObjectsJson() as { hour: string; page: string; views: number }[]
    assert.equal(rows.length, expected.size)
    for (const row of rows) assert.equal(row.views, expected.get(`${row.hour} ${row.page}`), `${row.hour} ${row.page}`)
  } finally {
    c.closeSync()
    db.closeSync()
  }

  const again = sluice('backfill', ...week, '--dry-run')
  assert.match(again.stdout, /would run 0 task runs/)
  const status = sluice('status', '--from', '2026-01-07T23', '--json')
  assert.deepEqual((JSON.parse(status.stdout) as { status: string }[]).map((s) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded'])
})
