// Runs the example as its README says and checks the daily figures against the ones computed from the data's
// own formula; the committed files are what make-data.ts writes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet'
import { ARCHIVE_START, RECENT_START, STATIONS, celsius } from './make-data.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))

test('parquet-avro-files: 3 of 8 Parquet columns and the Avro archive give each station\'s six days', async () => {
  const meta = await parquetMetadataAsync(await asyncBufferFromFile(fileURLToPath(new URL('data/readings.parquet', import.meta.url))))
  assert.equal(meta.row_groups.length, 6, 'row groups: the splits')
  assert.equal(meta.schema.length - 1, 8, 'columns in the file')

  rmSync(out, { recursive: true, force: true })
  const r = spawnSync(process.execPath, ['bin/sluice.js', 'run', 'examples/parquet-avro-files/pipeline.ts', '--quiet'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)
  const got = readFileSync(`${out}daily.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { station: string; day: string })

  const want: { station: string; day: string; readings: number; lowC: number; highC: number }[] = []
  for (let d = 0; d < 6; d++) {
    const start = (d < 3 ? ARCHIVE_START : RECENT_START) + (d % 3) * 86_400_000
    STATIONS.forEach((station, s) => {
      const temps = Array.from({ length: 24 }, (_, h) => celsius(s, start + h * 3_600_000))
      want.push({ station, day: new Date(start).toISOString().slice(0, 10), readings: 24, lowC: Math.min(...temps), highC: Math.max(...temps) })
    })
  }
  const order = (a: { station: string; day: string }, b: { station: string; day: string }) => a.day.localeCompare(b.day) || a.station.localeCompare(b.station)
  assert.deepEqual(got.sort(order), want.sort(order))
  rmSync(out, { recursive: true, force: true })
})
