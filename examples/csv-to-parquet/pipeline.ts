// A batch job: taxi trips from CSV to Parquet, with the malformed rows set aside.
//   npx sluice run examples/csv-to-parquet/pipeline.ts
// Reads data/trips.csv; writes out/trips.parquet (one row per trip, with the fare per km) and
// out/rejected.jsonl (the rows that did not parse, with their position and reason).
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, sink, source } from 'sluice'

interface Trip {
  trip_id: string
  pickup: string
  zone: string
  distance_km: number
  fare: number
  paid_by: 'card' | 'cash' | 'app'
}

// Files beside this module, named relative to the current folder (as error positions show them).
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

// A row that does not parse (a field that is not a number, a line cut short) goes to p.errors().
const p = pipeline('csv-to-parquet', { onError: 'error-output' })

p.from(source.csv<Trip>(here('data/trips.csv'), { types: { distance_km: 'number', fare: 'number' }, eventTime: (t) => Date.parse(t.pickup) }))
  .map((t) => ({ trip: t.trip_id, pickup: new Date(t.pickup), zone: t.zone, km: t.distance_km, fare: t.fare, farePerKm: Math.round((t.fare / t.distance_km) * 100) / 100, paidBy: t.paid_by }))
  // Declared columns: the file has the same types whatever the first rows hold.
  .to(sink.parquet(here('out/trips.parquet'), { schema: { trip: 'string', pickup: 'timestamp', zone: 'string', km: 'double', fare: 'double', farePerKm: 'double', paidBy: 'string' } }))

p.errors()
  .map((e) => ({ position: e.position, reason: e.error }))
  .to(sink.jsonl(here('out/rejected.jsonl')))

export default p
