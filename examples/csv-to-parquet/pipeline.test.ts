// Runs the example as its README says and checks what it wrote.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))

test('csv-to-parquet: 46 trips in Parquet, the two malformed rows set aside with their positions', async () => {
  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/csv-to-parquet/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)

  const rejected = readFileSync(`${out}rejected.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)
  assert.deepEqual(rejected, [
    { position: 'examples/csv-to-parquet/data/trips.csv:14', reason: "field 'distance_km' is not a valid number" },
    { position: 'examples/csv-to-parquet/data/trips.csv:32', reason: 'expected 6 fields, found 4' },
  ])

  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    const rows = (await c.runAndReadAll(`SELECT count(*)::INT AS trips, count(DISTINCT zone)::INT AS zones, epoch_ms(min(pickup))::BIGINT::DOUBLE AS first, round(sum(fare), 2)::DOUBLE AS fares FROM read_parquet('${out}trips.parquet')`)).getRowObjectsJson()
    assert.deepEqual(rows, [{ trips: 46, zones: 4, first: Date.UTC(2024, 5, 1, 6, 13), fares: Number(readFaresTotal()) }])
    const types = (await c.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${out}trips.parquet'))`)).getRowObjectsJson()
    const byName = Object.fromEntries(types.map((t) => [t.column_name, String(t.column_type).replace(/ WITH TIME ZONE$/, '')]))
    assert.deepEqual(byName, { trip: 'VARCHAR', pickup: 'TIMESTAMP', zone: 'VARCHAR', km: 'DOUBLE', fare: 'DOUBLE', farePerKm: 'DOUBLE', paidBy: 'VARCHAR' })
  } finally {
    c.closeSync()
    db.closeSync()
  }
})

/** The sum of the fares of the well-formed rows, straight from the CSV. */
function readFaresTotal(): string {
  const lines = readFileSync(new URL('data/trips.csv', import.meta.url), 'utf8').trim().split('\n').slice(1)
  const ok = lines.map((l) => l.split(',')).filter((f) => f.length === 6 && !Number.isNaN(Number(f[3])))
  return (Math.round(ok.reduce((s, f) => s + Number(f[4]), 0) * 100) / 100).toFixed(2)
}
