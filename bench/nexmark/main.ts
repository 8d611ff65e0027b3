import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../../src/core/duration.ts'
import { queries } from './queries.ts'
import type { NexmarkQuery } from './query.ts'
import { orderColumns, runQuery } from './run-query.ts'
import { digestRows } from './results.ts'
import { combineOption } from './pipeline.ts'
import type { CombineOption } from '../../src/index.ts'

const usage = `Usage: npm run bench -- nexmark --query <qN|all> [--events N] [--out file.jsonl] [--checkpoint-interval d]
                              [--parallelism p] [--warmup N] [--duckdb] [--check] [--state heap|durable]
                              [--combine true|false|auto]
Runs a Nexmark query, bounded, over N generated events (default 1,000,000; the events of
\`sluice nexmark generate --events N\`) and prints one JSON line of measurements last.
  --checkpoint-interval  exactly-once checkpoints this often (default 10s, as in the published
              runs), into a temporary folder removed afterwards; 0 or 'off' for none
  --out       write the final results as JSON lines (updating queries: the last row per key)
  --warmup    events of a first, unmeasured run (default min(N, 200000); 0 for none)
  --duckdb    also time the same query in DuckDB SQL, in memory, single-threaded (results into a
              temporary table). Loads DuckDB into this process: peakRssBytes then includes it
  --duckdb-only  time the queries in DuckDB only (no Sluice run)
  --check     also compare the results with DuckDB's, by digest: no result row is kept (implies --duckdb)
  --state     where keyed state lives: 'heap' (default) or 'durable' (an embedded store on disk)
  --combine   the pipeline's combine option (local pre-aggregation before keyed exchanges); default:
              the pipeline's default
Queries: ${Object.keys(queries).join(' ')}`

export interface NexmarkMeasurement {
  query: string
  events: number
  wallSeconds: number
  cpuSeconds: number
  eventsPerCpuSecond: number
  peakRssBytes: number
  /** Null when checkpoints are off. */
  checkpointIntervalMs: number | null
  /** Checkpoints completed in the measured run: the periodic ones and the last one at the end of input. */
  checkpoints: number
  /** How many of those were incremental (deltas). */
  checkpointDeltas: number
  /** Bytes of the measured run's last checkpoint. */
  checkpointBytes: number
  /** With --out or --check: CPU time spent keeping the results (or their digest), left out of `cpuSeconds`. */
  resultsCpuSeconds?: number
  parallelism: number
  resultRecords: number
  resultRows?: number
  duckdbSeconds?: number
  duckdbCpuSeconds?: number
  duckdbEventsPerCpuSecond?: number
  matchesDuckdb?: boolean
  /** Where keyed state lived: 'heap' or 'durable'. */
  state: 'heap' | 'durable'
  /** The pipeline's combine option, when --combine gave one. */
  combine?: CombineOption
}

/** `npm run bench -- nexmark ...`: see `usage`. */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      query: { type: 'string' },
      events: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      'checkpoint-interval': { type: 'string' },
      parallelism: { type: 'string', default: '1' },
      state: { type: 'string', default: 'heap' },
      warmup: { type: 'string' },
      combine: { type: 'string' },
      duckdb: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      'duckdb-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help || values.query === undefined) {
    console.log(usage)
    if (!values.help) process.exitCode = 2
    return
  }
  const events = Number(values.events)
  const parallelism = Number(values.parallelism)
  if (!Number.isSafeInteger(events) || events < 1) throw new Error(`--events must be a positive integer, got '${values.events}'`)
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new Error(`--parallelism must be a positive integer, got '${values.parallelism}'`)
  const state = values.state
  if (state !== 'heap' && state !== 'durable') throw new Error(`--state must be 'heap' or 'durable', got '${state}'`)
  const combine = combineOption(values.combine)
  const warmup = values.warmup === undefined ? Math.min(events, 200_000) : Number(values.warmup)
  const checkpointIntervalMs = checkpointInterval(values['checkpoint-interval'] ?? DEFAULT_CHECKPOINT_INTERVAL)
  const names = values.query === 'all' ? Object.keys(queries) : values.query.split(',')
  for (const name of names) if (queries[name] === undefined) throw new Error(`unknown query '${name}'; one of: ${Object.keys(queries).join(', ')}`)
  if (values.out !== undefined && names.length > 1) throw new Error('--out takes one query')
  if (values['duckdb-only']) {
    const { duckdbTime, duckdbWithEvents } = await import('./duckdb.ts')
    const conn = await duckdbWithEvents(events)
    for (const name of names) {
      if (!queries[name].deterministic) continue
      await duckdbTime(conn, name) // warm-up
      const t = await duckdbTime(conn, name)
      console.log(JSON.stringify({ query: name, events, duckdbSeconds: round(t.wallSeconds), duckdbCpuSeconds: round(t.cpuSeconds), duckdbEventsPerCpuSecond: Math.round(events / t.cpuSeconds) }))
    }
    return
  }
  for (const name of names) {
    const m = await measure(queries[name], { events, parallelism, warmup, checkpointIntervalMs, out: values.out, duckdb: values.duckdb || values.check, check: values.check, state, combine })
    console.log(JSON.stringify(m))
  }
}

async function measure(
  query: NexmarkQuery,
  o: { events: number; parallelism: number; warmup: number; checkpointIntervalMs: number | null; out: string | undefined; duckdb: boolean; check: boolean; state: 'heap' | 'durable'; combine: CombineOption | undefined },
): Promise<NexmarkMeasurement> {
  // --check alone keeps a digest of the results, not the rows: millions of them do not fit beside the engine in a small heap.
  const materialize = o.out !== undefined
  const checkpointIntervalMs = o.checkpointIntervalMs ?? 0
  if (o.warmup > 0) await runQuery(query, { events: o.warmup, parallelism: o.parallelism, checkpointIntervalMs, state: o.state, combine: o.combine })
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await runQuery(query, { events: o.events, parallelism: o.parallelism, materialize, digest: o.check && !materialize, checkpointIntervalMs, state: o.state, combine: o.combine })
  const wallSeconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  // Without the sink's keeping of results for --out or --check (timed apart): the query's work alone.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6 - r.tableCpuSeconds
  if (r.summary.recordsIn !== o.events) throw new Error(`${query.name}: read ${r.summary.recordsIn} of ${o.events} events`)
  const m: NexmarkMeasurement = {
    query: query.name,
    events: o.events,
    wallSeconds: round(wallSeconds),
    cpuSeconds: round(cpuSeconds),
    eventsPerCpuSecond: Math.round(o.events / cpuSeconds),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    checkpointIntervalMs: o.checkpointIntervalMs,
    checkpoints: r.checkpoints,
    checkpointDeltas: r.checkpointDeltas,
    checkpointBytes: r.checkpointBytes,
    parallelism: o.parallelism,
    state: o.state,
    resultRecords: r.records,
  }
  if (o.combine !== undefined) m.combine = o.combine
  if (r.rows !== undefined) m.resultRows = r.rows.length
  if (r.tableCpuSeconds > 0) m.resultsCpuSeconds = round(r.tableCpuSeconds)
  if (o.out !== undefined) writeRows(o.out, r.rows!, query.columns)
  // q12 windows on processing time: there is no SQL statement of it to time or compare.
  if (o.duckdb && query.deterministic) {
    const { duckdbDigest, duckdbTime, duckdbWithEvents } = await import('./duckdb.ts')
    // One database for every query of the run: loading the events is not what is measured.
    duckdb ??= duckdbWithEvents(o.events)
    const conn = await duckdb
    await duckdbTime(conn, query.name) // warm-up
    const t = await duckdbTime(conn, query.name)
    m.duckdbSeconds = round(t.wallSeconds)
    m.duckdbCpuSeconds = round(t.cpuSeconds)
    m.duckdbEventsPerCpuSecond = Math.round(o.events / t.cpuSeconds)
    if (o.check) {
      const ours = r.digest ?? digestRows(r.rows!, query.columns)
      const theirs = await duckdbDigest(conn, query.name, query.columns)
      m.matchesDuckdb = ours === theirs
      if (!m.matchesDuckdb) console.error(`${query.name}: results ${ours}, DuckDB's ${theirs}`)
    }
  }
  return m
}

/** As in the published Flink runs: exactly-once checkpoints every 10 s. */
export const DEFAULT_CHECKPOINT_INTERVAL = '10s'

/** --checkpoint-interval: a duration, or 0 / 'off' for none (null). */
export function checkpointInterval(s: string): number | null {
  if (s.trim() === 'off') return null
  const ms = parseDuration(s, '--checkpoint-interval', { allowZero: true })
  return ms === 0 ? null : ms
}

let duckdb: Promise<import('@duckdb/node-api').DuckDBConnection> | undefined

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}

function writeRows(path: string, rows: readonly object[], columns: readonly string[]): void {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'w')
  try {
    let s = ''
    for (const row of rows) {
      s += JSON.stringify(orderColumns(row, columns)) + '\n'
      if (s.length > 1 << 20) {
        writeSync(fd, s)
        s = ''
      }
    }
    writeSync(fd, s)
  } finally {
    closeSync(fd)
  }
}
