// Daily low, high and count of readings per weather station, from a Parquet file of recent readings (three of
// its eight columns read) and an Avro archive of older ones.
//   npx sluice run examples/parquet-avro-files/pipeline.ts
// Reads data/readings.parquet and data/archive.avro (made by make-data.ts); writes out/daily.jsonl.
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, window } from 'sluice'

export interface Reading {
  station: string
  /** Epoch milliseconds. */
  ts: number
  tempC: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const p = pipeline('parquet-avro-files')

// Parquet: only the columns asked for are decoded; each row group is a split. Timestamps arrive as Dates.
const recent = p
  .from(source.parquet<{ station: string; ts: Date; temp_c: number }>(here('data/readings.parquet'), { columns: ['station', 'ts', 'temp_c'], eventTime: (r) => r.ts.getTime() }))
  .map((r): Reading => ({ station: r.station, ts: r.ts.getTime(), tempC: r.temp_c }))

// Avro: an object container file, decoded block by block with the schema in its header.
const archive = p
  .from(source.avro<{ station: string; ts: number; temp_c: number }>(here('data/archive.avro'), { eventTime: (r) => r.ts }))
  .map((r): Reading => ({ station: r.station, ts: r.ts, tempC: r.temp_c }))

recent
  .union(archive)
  .keyBy((r) => r.station)
  .window(window.tumbling({ size: '1d' }))
  .aggregate(agg.fields({ readings: agg.count(), lowC: agg.min((r: Reading) => r.tempC), highC: agg.max((r: Reading) => r.tempC) }))
  .map((w) => ({ station: w.key, day: day(w.start), ...w.value }))
  .to(sink.jsonl(here('out/daily.jsonl')))

export default p
