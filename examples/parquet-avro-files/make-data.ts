// Writes the example's two input files (deterministic; committed, so running this is only needed to change them):
//   data/readings.parquet  4 stations, hourly, 2024-06-04..06 (288 rows, 8 columns, row groups of 48 rows)
//   data/archive.avro      the same stations, hourly, 2024-06-01..03 (288 records of 3 fields, deflate blocks)
//   node examples/parquet-avro-files/make-data.ts
import { fileURLToPath } from 'node:url'
import { pipeline, run, sink, source } from 'sluice'

export const STATIONS = ['north', 'south', 'east', 'west']
export const ARCHIVE_START = Date.UTC(2024, 5, 1)
export const RECENT_START = Date.UTC(2024, 5, 4)
const HOURS = 3 * 24

/** The temperature of a station at an hour: a daily curve, a station offset, and a fixed wobble. */
export function celsius(station: number, ts: number): number {
  const hour = new Date(ts).getUTCHours()
  const wobble = ((ts / 3_600_000) * 7 + station * 13) % 5
  return Math.round((14 + station * 1.5 + 8 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + wobble / 2) * 10) / 10
}

const hourly = (start: number) => Array.from({ length: HOURS * STATIONS.length }, (_, i) => ({ s: i % STATIONS.length, ts: start + Math.floor(i / STATIONS.length) * 3_600_000 }))

export async function makeData(): Promise<void> {
  const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
  // Batches of 48 rows: the Parquet sink cuts a row group once rowGroupSize rows are buffered.
  const p = pipeline('make-parquet-avro-data', { batchSize: 48 })
  p.from(source.collection(hourly(RECENT_START)))
    .map(({ s, ts }) => ({
      station: STATIONS[s],
      ts: new Date(ts),
      temp_c: celsius(s, ts),
      humidity: 40 + ((ts / 3_600_000 + s * 5) % 30),
      pressure_hpa: 1008 + s,
      wind_ms: ((ts / 3_600_000) % 9) + s,
      firmware: `v2.${s}`,
      note: s === 3 && new Date(ts).getUTCHours() === 12 ? 'sensor cleaned' : '',
    }))
    .to(sink.parquet(here('data/readings.parquet'), { rowGroupSize: 48, schema: { station: 'string', ts: 'timestamp', temp_c: 'double', humidity: 'double', pressure_hpa: 'double', wind_ms: 'double', firmware: 'string', note: 'string' } }))
  p.from(source.collection(hourly(ARCHIVE_START)))
    .map(({ s, ts }) => ({ station: STATIONS[s], ts, temp_c: celsius(s, ts) }))
    .to(sink.avro(here('data/archive.avro'), { schema: { type: 'record', name: 'Reading', fields: [{ name: 'station', type: 'string' }, { name: 'ts', type: 'long' }, { name: 'temp_c', type: 'double' }] } }))
  await run(p)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await makeData()
