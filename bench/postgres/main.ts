/**
 * `npm run bench -- postgres [--rows N] [--runs N]`: rows per second into a local Postgres for narrow rows
 * ({ id: int64, v: double, s: short text }) through sink.postgres with a checkpoint every 100,000 rows (COPY
 * straight into the table in a prepared transaction where the server allows them; staged with `prepared:
 * false`: COPY to the staging table, then the move in one transaction at each checkpoint; and as on a server
 * without prepared transactions: staged and copied into the table side by side) and without checkpoints,
 * beside `psql \copy` of the same rows into a plain table, the limit; each the median of `--runs` alternated
 * runs. Needs `npm run services -- postgres` and psql on the PATH.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { postgres, postgresSink } from '../../src/connectors/postgres/sink.ts'
import type { SinkWriter } from '../../src/core/sink.ts'
import { serviceOrSkip } from '../../test/support/services.ts'

interface Row {
  id: number
  v: number
  s: string
}

const BATCH = 1024

function rowsOf(n: number): Row[] {
  return Array.from({ length: n }, (_, i) => ({ id: i, v: i * 0.5, s: `name-${i % 1000}` }))
}

async function sql(url: string, text: string): Promise<void> {
  await query(url, text)
}

async function query(url: string, text: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(text)).rows as unknown[]
  } finally {
    await c.end()
  }
}

/**
 * How the sink writes with checkpoints: `prepared` where the server allows prepared transactions, `staged`
 * (`prepared: false`: staged, then moved), `mirrored` (what a server without prepared transactions gets:
 * staged and copied into the table side by side; the sink is told the server allows none).
 */
type Path = 'prepared' | 'staged' | 'mirrored'

async function viaSink(url: string, rows: Row[], checkpointEvery: number | undefined, path: Path = 'prepared'): Promise<number> {
  const schema = 'bench_pg'
  await sql(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`)
  const checkpointing = checkpointEvery !== undefined
  const start = performance.now()
  const options = { url, schema, table: 'narrow', columns: { id: 'int64', v: 'double', s: 'string' }, prepared: path !== 'staged' } as const
  const s = path === 'mirrored' ? postgresSink<Row>(options, async () => false) : postgres<Row>(options)
  const w = (await s.open({ pipeline: 'bench', stepId: 'sink-1', subtask: 0, checkpointing })) as SinkWriter<Row>
  if (checkpointing) await w.recover!([])
  let id = 0
  const times = new Array<number>(BATCH).fill(0)
  for (let i = 0; i < rows.length; i += BATCH) {
    const values = rows.slice(i, i + BATCH)
    await w.write({ values, times: values.length === BATCH ? times : times.slice(0, values.length) })
    if (checkpointing && (i + BATCH) % checkpointEvery < BATCH) {
      id++
      await w.commit!(id, await w.preCommit!(id))
    }
  }
  if (checkpointing) {
    id++
    await w.commit!(id, await w.preCommit!(id))
  }
  await w.close()
  return performance.now() - start
}

async function viaPsql(url: string, rows: Row[], dir: string): Promise<number> {
  const file = join(dir, 'rows.tsv')
  await writeFile(file, rows.map((r) => `${r.id}\t${r.v}\t${r.s}\n`).join(''))
  await sql(url, 'DROP SCHEMA IF EXISTS bench_psql CASCADE; CREATE SCHEMA bench_psql; CREATE TABLE bench_psql.narrow (id BIGINT, v DOUBLE PRECISION, s TEXT)')
  const start = performance.now()
  const r = spawnSync('psql', [url, '-q', '-c', `\\copy bench_psql.narrow FROM '${file}'`], { encoding: 'utf8' })
  const ms = performance.now() - start
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
  return ms
}

export async function main(argv: string[]): Promise<void> {
  const service = serviceOrSkip('postgres')
  if (service.skip !== false) {
    console.error(service.skip)
    process.exitCode = 2
    return
  }
  const url = String(service.info!.url)
  const i = argv.indexOf('--rows')
  const n = i >= 0 ? Number(argv[i + 1]) : 500_000
  const r = argv.indexOf('--runs')
  const runs = r >= 0 ? Number(argv[r + 1]) : 1
  const rows = rowsOf(n)
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-pg-'))
  try {
    const rate = (ms: number) => Math.round(n / (ms / 1000))
    const [{ max }] = (await query(url, "SELECT current_setting('max_prepared_transactions') AS max")) as { max: string }[]
    const prepared = Number(max) > 0 ? 'prepared transactions' : 'the server allows no prepared transactions'
    const ways = [
      ['psql \\copy (the limit):                     ', () => viaPsql(url, rows, dir)],
      ['sink.postgres, no checkpoints:               ', () => viaSink(url, rows, undefined)],
      [`sink.postgres, checkpoint per 100k (${prepared}):`, () => viaSink(url, rows, 100_000)],
      ['sink.postgres, checkpoint per 100k, staged (prepared: false):', () => viaSink(url, rows, 100_000, 'staged')],
      ['sink.postgres, checkpoint per 100k, no prepared transactions on the server (staged and copied side by side):', () => viaSink(url, rows, 100_000, 'mirrored')],
    ] as const
    // Alternated runs, the median of each: the machine's load changes from one run to the next.
    const times: number[][] = ways.map(() => [])
    for (let i = 0; i < runs; i++) for (let w = 0; w < ways.length; w++) times[w].push(await ways[w][1]())
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const psqlRate = rate(median(times[0]))
    console.log(`rows: ${n} narrow (int64, double, text); median of ${runs} alternated run(s)`)
    for (let w = 0; w < ways.length; w++) {
      const got = rate(median(times[w]))
      console.log(`${ways[w][0]} ${got.toLocaleString('en')} rows/s${w === 0 ? '' : ` (${(psqlRate / got).toFixed(2)}x slower than psql)`}`)
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await sql(url, 'DROP SCHEMA IF EXISTS bench_pg CASCADE; DROP SCHEMA IF EXISTS bench_psql CASCADE')
  }
}

if (import.meta.main) await main(process.argv.slice(2))
