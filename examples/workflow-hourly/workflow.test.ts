// Backfills the example's first week as its README says, and checks the DuckDB table against the views
// counted from the dropped files directly; a second backfill finds nothing left to run. Then hours of bad views
// are held back by the quality checks, and never published.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { makeData } from './make-data.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const sluiceOn = (store: string, ...args: string[]) =>
  spawnSync(process.execPath, ['bin/sluice.js', 'workflow', ...args, 'examples/workflow-hourly/workflow.ts', '--store', `examples/workflow-hourly/out/${store}`], { cwd: root, encoding: 'utf8', timeout: 600_000 })
const sluice = (...args: string[]) => sluiceOn('runs.db', ...args)

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

test('workflow-hourly: hours whose views fail the quality checks are not published', { timeout: 600_000 }, () => {
  const drop = `${out}drop/`
  mkdirSync(drop, { recursive: true })
  const view = (page: string | undefined, userId: string | undefined, ts: number) => JSON.stringify({ page, userId, ts })
  const at = Date.parse('2026-01-08T00:00Z')
  // 00: a view without a page fails the pipeline; 01: a view without a user fails the gate; 02: no views at all.
  writeFileSync(`${drop}2026-01-08T00.jsonl`, `${view('/', 'u1', at)}\n${view(undefined, 'u2', at + 1000)}\n`)
  writeFileSync(`${drop}2026-01-08T01.jsonl`, `${view('/', 'u1', at + 3_600_000)}\n${view('/docs', undefined, at + 3_601_000)}\n`)
  writeFileSync(`${drop}2026-01-08T02.jsonl`, '')
  rmSync(`${out}quality-runs.db`, { force: true })
  const hours = ['--from', '2026-01-08T00', '--to', '2026-01-08T02']
  const r = sluiceOn('quality-runs.db', 'backfill', ...hours)
  assert.notEqual(r.status, 0, 'the backfill reports the failed hours')
  const runs = JSON.parse(sluiceOn('quality-runs.db', 'status', ...hours, '--json').stdout) as { task: string; partition: string; status: string; error?: string }[]
  const of = (partition: string) => Object.fromEntries(runs.filter((x) => x.partition === partition).map((x) => [x.task, x.status]))
  const error = (task: string, partition: string) => runs.find((x) => x.task === task && x.partition === partition)?.error ?? ''
  assert.deepEqual(of('2026-01-08T00'), { ingest: 'succeeded', aggregate: 'failed', check: 'upstream_failed', publish: 'upstream_failed' })
  assert.match(error('aggregate', '2026-01-08T00'), /SLUICE_EXPECTATION_FAILED/)
  assert.deepEqual(of('2026-01-08T01'), { ingest: 'succeeded', aggregate: 'succeeded', check: 'failed', publish: 'upstream_failed' })
  assert.match(error('check', '2026-01-08T01'), /userId:notNull \(1 of 2\)/)
  assert.deepEqual(of('2026-01-08T02'), { ingest: 'succeeded', aggregate: 'succeeded', check: 'failed', publish: 'upstream_failed' })
  assert.match(error('check', '2026-01-08T02'), /rowCount \(0 of 0\)/)
})
