import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { serviceOrSkip } from '../support/services.ts'
import type { Batch } from '../../src/core/batch.ts'
import type { SinkContext, SinkWriter } from '../../src/core/sink.ts'
import { END } from '../../src/core/source.ts'
import { committedParts } from '../../src/connectors/files/part-files.ts'

/** What the conformance suite writes: record n, each exactly once. */
export interface Rec {
  n: number
}

/** One implementation under test: how to open a writer in a folder, and what its committed output holds. */
export interface SinkCase {
  name: string
  /** One writer per subtask (rescaling applies); false for sinks that run as one subtask. */
  perSubtask: boolean
  open(dir: string, ctx: SinkContext): Promise<SinkWriter<Rec>>
  /** The `n` of every committed record, in any order (duplicates kept). */
  committed(dir: string): Promise<number[]>
  /** Output neither committed nor discarded (staged files, staged rows, pending letters): none once a run ended. */
  leftovers(dir: string): Promise<number>
  /** A service of `npm run services` the sink needs (its tests skip without it, and run from that service's suite). */
  service?: string
  /** Whether restoring an older checkpoint discards later committed output (part files); default true for per-subtask sinks. */
  olderRestores?: boolean
  /** Exactly-once by idempotent writes by key, without a two-phase commit (no preCommit, commit or recover). */
  idempotent?: boolean
}

const quiet = { logger: { warn: () => undefined } }

// Each case imports its sink lazily: a child process driving the JSONL sink does not load DuckDB.
export const CASES: Record<string, SinkCase> = {
  jsonl: {
    name: 'sink.jsonl, part files',
    perSubtask: true,
    async open(dir, ctx) {
      const { jsonl } = await import('../../src/connectors/files/jsonl-sink.ts')
      return jsonl<Rec>(join(dir, 'out')).open(ctx)
    },
    async committed(dir) {
      if (!existsSync(join(dir, 'out'))) return []
      const out: number[] = []
      for (const f of await committedParts(join(dir, 'out'))) {
        for (const line of (await readFile(f, 'utf8')).split('\n')) if (line !== '') out.push((JSON.parse(line) as Rec).n)
      }
      return out
    },
    leftovers: (dir) => stagedFiles(join(dir, 'out')),
  },
  jsonlFile: {
    name: 'sink.jsonl, one file',
    perSubtask: false,
    async open(dir, ctx) {
      const { jsonl } = await import('../../src/connectors/files/jsonl-sink.ts')
      return jsonl<Rec>(join(dir, 'out.jsonl')).open(ctx)
    },
    async committed(dir) {
      if (!existsSync(join(dir, 'out.jsonl'))) return []
      return (await readFile(join(dir, 'out.jsonl'), 'utf8')).split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Rec).n)
    },
    // Records after the last checkpoint are in the file until a restart cuts them off; none once a run ended.
    leftovers: async () => 0,
  },
  parquet: {
    name: 'sink.parquet',
    perSubtask: true,
    async open(dir, ctx) {
      const { parquet } = await import('../../src/connectors/parquet/sink.ts')
      return parquet<Rec>(join(dir, 'out'), { rowGroupSize: 40, schema: { n: 'int64' } }).open(ctx)
    },
    async committed(dir) {
      if (!existsSync(join(dir, 'out'))) return []
      const files = await committedParts(join(dir, 'out'), 'parquet')
      if (files.length === 0) return []
      return duckNumbers(`SELECT n FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])`)
    },
    leftovers: (dir) => stagedFiles(join(dir, 'out')),
  },
  duckdb: {
    name: 'sink.duckdb',
    perSubtask: false,
    async open(dir, ctx) {
      const { duckdb } = await import('../../src/connectors/duckdb/sink.ts')
      return duckdb<Rec>(join(dir, 'db.duckdb'), 'rows', { columns: { n: 'int64' } }).open(ctx)
    },
    async committed(dir) {
      if (!existsSync(join(dir, 'db.duckdb'))) return []
      return duckNumbers(`SELECT n FROM out.rows`, join(dir, 'db.duckdb'))
    },
    async leftovers(dir) {
      const staged = await duckNumbers(`SELECT count(*) AS n FROM out._sluice_staging_conf_sink_1_0`, join(dir, 'db.duckdb'))
      return staged[0]
    },
  },
  postgres: {
    name: 'sink.postgres',
    perSubtask: false,
    service: 'postgres',
    async open(dir, ctx) {
      const { postgres } = await import('../../src/connectors/postgres/sink.ts')
      return postgres<Rec>({ url: pgUrl(), schema: pgSchema(dir), table: 'rows', columns: { n: 'int64' } }).open(ctx)
    },
    committed: async (dir) => (await pgRows(`SELECT n FROM ${pgSchema(dir)}.rows`)).map((r) => Number(r.n)),
    leftovers: pgLeftovers,
  },
  postgresStaged: {
    name: 'sink.postgres, staged (no prepared transactions)',
    perSubtask: false,
    service: 'postgres',
    async open(dir, ctx) {
      const { postgres } = await import('../../src/connectors/postgres/sink.ts')
      return postgres<Rec>({ url: pgUrl(), schema: pgSchema(dir), table: 'rows', columns: { n: 'int64' }, prepared: false }).open(ctx)
    },
    committed: async (dir) => (await pgRows(`SELECT n FROM ${pgSchema(dir)}.rows`)).map((r) => Number(r.n)),
    leftovers: pgLeftovers,
  },
  postgresMirrored: {
    name: 'sink.postgres on a server without prepared transactions: staged and copied side by side',
    perSubtask: false,
    service: 'postgres',
    async open(dir, ctx) {
      const { postgresSink } = await import('../../src/connectors/postgres/sink.ts')
      return postgresSink<Rec>({ url: pgUrl(), schema: pgSchema(dir), table: 'rows', columns: { n: 'int64' } }, async () => false).open(ctx)
    },
    committed: async (dir) => (await pgRows(`SELECT n FROM ${pgSchema(dir)}.rows`)).map((r) => Number(r.n)),
    leftovers: pgLeftovers,
  },
  redis: {
    name: 'sink.redis, idempotent by key',
    perSubtask: true,
    service: 'redis',
    idempotent: true,
    olderRestores: false,
    async open(dir, ctx) {
      const { redis } = await import('../../src/connectors/redis/sink.ts')
      return redis<Rec>({ url: redisUrl(), type: 'string', key: (r) => `${redisPrefix(dir)}${r.n}`, value: (r) => r.n }).open(ctx)
    },
    async committed(dir) {
      const { Redis } = await import('ioredis')
      const r = new Redis(redisUrl())
      try {
        const keys = await r.keys(`${redisPrefix(dir)}*`)
        const values = keys.length === 0 ? [] : await r.mget(...keys)
        // Each key holds its record's n: a key written twice still counts once, which is the sink's guarantee.
        return values.map((v, i) => {
          assert.equal(v, keys[i].slice(redisPrefix(dir).length), 'a key holds its own record')
          return Number(v)
        })
      } finally {
        await r.quit()
      }
    },
    leftovers: async () => 0,
  },
  s3: {
    name: 'sink.s3, jsonl',
    perSubtask: true,
    service: 's3',
    async open(dir, ctx) {
      const { s3 } = await import('../../src/connectors/s3/sink.ts')
      return s3<Rec>({ ...s3Conn(), prefix: s3Prefix(dir), format: 'jsonl' }).open(ctx)
    },
    async committed(dir) {
      const out: number[] = []
      for (const text of await s3Objects(s3Prefix(dir), /part-\d+-\d+\.jsonl$/)) for (const line of text.split('\n')) if (line !== '') out.push((JSON.parse(line) as Rec).n)
      return out
    },
    leftovers: async (dir) => (await s3Objects(s3Prefix(dir) + '.sluice-uploads/', /./)).length,
  },
  s3Parquet: {
    name: 'sink.s3, parquet',
    perSubtask: true,
    service: 's3',
    async open(dir, ctx) {
      const { s3 } = await import('../../src/connectors/s3/sink.ts')
      return s3<Rec>({ ...s3Conn(), prefix: s3Prefix(dir), format: 'parquet', schema: { n: 'int64' }, rowGroupSize: 40 }).open(ctx)
    },
    async committed(dir) {
      const { parquetReadObjects } = await import('hyparquet')
      const out: number[] = []
      for (const bytes of await s3Objects(s3Prefix(dir), /part-\d+-\d+\.parquet$/, true)) {
        const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer })) as { n: bigint | number }[]
        for (const r of rows) out.push(Number(r.n))
      }
      return out
    },
    leftovers: async (dir) => (await s3Objects(s3Prefix(dir) + '.sluice-uploads/', /./)).length,
  },
  log: {
    name: 'sink.log',
    perSubtask: false,
    async open(dir, ctx) {
      const { log } = await import('../../src/connectors/log/sink.ts')
      return log<Rec>(join(dir, 'log'), 'out', { partitions: 3, key: (r) => String(r.n), log: { fsync: 'never', ...quiet } }).open(ctx)
    },
    async committed(dir) {
      const { log } = await import('../../src/connectors/log/source.ts')
      const reader = await log<Rec>(join(dir, 'log'), 'out', { stopAtEnd: true, isolation: 'read_committed', log: quiet }).open({
        pipeline: 'check',
        stepId: 'source-1',
        signal: new AbortController().signal,
        malformed: () => undefined,
      })
      try {
        const out: number[] = []
        for (let p = 0; p < reader.partitions; p++) {
          for (;;) {
            const r = await reader.read(p, 100)
            if (r === END) break
            if (r !== null) out.push(...r.values.map((v) => v.n))
          }
        }
        return out
      } finally {
        await reader.close()
      }
    },
    // An unresolved transaction stops a read_committed reader, so `committed` sees it already.
    leftovers: async () => 0,
  },
  deadLetters: {
    name: 'dead letters',
    perSubtask: false,
    async open(dir, ctx) {
      const { DeadLetterWriter } = await import('../../src/dlq/writer.ts')
      const { deadLetter } = await import('../../src/dlq/record.ts')
      const w = await DeadLetterWriter.open({ dir: join(dir, 'log'), topic: 'conf.dlq', checkpointing: ctx.checkpointing, log: { fsync: 'never', ...quiet } })
      const letter = (n: number) =>
        deadLetter({ pipeline: ctx.pipeline, step: 'map-1', reason: 'user-function', error: new Error('failed'), position: `in:${n}`, attempts: 1, time: n, eventTime: n, record: { n }, raw: false, includeStack: false })
      // The writer behind the same contract as a sink: each record of a batch becomes a letter.
      return {
        write: (batch: Batch<Rec>) => {
          for (const v of batch.values) w.add(letter(v.n))
        },
        preCommit: (id) => w.preCommit(id),
        commit: (id, h) => w.commit(id, h),
        recover: (r) => w.recover(r),
        close: () => w.close(true),
      }
    },
    async committed(dir) {
      if (!existsSync(join(dir, 'log'))) return []
      const { readDeadLetters } = await import('../../src/dlq/reader.ts')
      return (await readDeadLetters(join(dir, 'log'), 'conf.dlq')).map((l) => (l.record as Rec).n)
    },
    async leftovers(dir) {
      const { openLog } = await import('../../src/log/index.ts')
      const { scanDeadLetters } = await import('../../src/dlq/reader.ts')
      const log = await openLog(join(dir, 'log'), { retentionCheckMs: 0, ...quiet })
      let pending = 0
      try {
        for await (const s of scanDeadLetters(log, 'conf.dlq')) if (s.visibility === 'pending') pending++
      } finally {
        await log.close()
      }
      return pending
    },
  },
  kafka: {
    name: 'sink.kafka, exactly-once',
    perSubtask: true,
    service: 'kafka',
    // What a Kafka transaction committed stays: a restore of an older checkpoint writes its records again.
    olderRestores: false,
    async open(dir, ctx) {
      const { kafka } = await import('../../src/connectors/kafka/sink.ts')
      const { bootstrap } = await import('../kafka/support.ts')
      const name = kafkaName(dir)
      return kafka<Rec>({ brokers: bootstrap(), topic: name, create: { partitions: 3 }, key: (r) => String(r.n), transactionalIdPrefix: name, transactionTimeout: 60_000 }).open(ctx)
    },
    async committed(dir) {
      const { readAll, withAdmin } = await import('../kafka/support.ts')
      const name = kafkaName(dir)
      if (!(await withAdmin((a) => a.listTopics())).includes(name)) return []
      return (await readAll<Rec>(name)).flat().map((r) => r.n)
    },
    // A transaction left open holds read_committed readers back: count the records past the last stable offset.
    async leftovers(dir) {
      const { openOffsets } = await import('../kafka/support.ts')
      return openOffsets(kafkaName(dir))
    },
  },
}

/** The topic and transactional-id prefix of a conformance run, unique to its folder. */
function kafkaName(dir: string): string {
  return `conf-${basename(dir).replace(/[^A-Za-z0-9._-]/g, '_')}`
}

async function stagedFiles(dir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises')
  const { STAGING_DIR } = await import('../../src/connectors/files/part-files.ts')
  return existsSync(join(dir, STAGING_DIR)) ? (await readdir(join(dir, STAGING_DIR))).length : 0
}

async function duckNumbers(sql: string, attach?: string): Promise<number[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    if (attach !== undefined) await c.run(`ATTACH '${attach}' AS out (READ_ONLY)`)
    return (await c.runAndReadAll(sql)).getRowObjectsJson().map((r) => Number(r.n))
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

/** The connection fields of the running s3 service (its bucket included). */
function s3Conn(): { bucket: string; endpoint: string; accessKeyId: string; secretAccessKey: string; region: string } {
  const i = serviceOrSkip('s3').info ?? {}
  return { bucket: String(i.bucket), endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
}

/** Each scenario writes under a prefix of its own, named after its folder. */
function s3Prefix(dir: string): string {
  return `conformance/${basename(dir)}/`
}

/** The objects under `prefix` whose keys match, as text (or bytes). */
async function s3Objects(prefix: string, match: RegExp): Promise<string[]>
async function s3Objects(prefix: string, match: RegExp, binary: true): Promise<Uint8Array[]>
async function s3Objects(prefix: string, match: RegExp, binary = false): Promise<(string | Uint8Array)[]> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3')
  const { s3Client, listKeys } = await import('../../src/checkpoint/object-store.ts')
  const conn = s3Conn()
  const client = s3Client(conn)
  try {
    const out: (string | Uint8Array)[] = []
    for (const key of await listKeys(client, conn.bucket, prefix)) {
      const rest = key.slice(prefix.length)
      if (!match.test(rest) || rest.includes('/')) continue
      const body = (await client.send(new GetObjectCommand({ Bucket: conn.bucket, Key: key }))).Body!
      out.push(binary ? await body.transformToByteArray() : await body.transformToString())
    }
    return out
  } finally {
    client.destroy()
  }
}

function pgUrl(): string {
  return String(serviceOrSkip('postgres').info?.url)
}

/** Rows staged and prepared transactions left by the sinks of a scenario (subtasks 0 and 1). */
async function pgLeftovers(dir: string): Promise<number> {
  const { preparedPrefix } = await import('../../src/connectors/postgres/prepared-table.ts')
  const schema = pgSchema(dir)
  let n = 0
  for (const k of [0, 1]) {
    n += Number((await pgRows(`SELECT count(*) AS n FROM ${schema}._sluice_staging_conf_sink_1_${k}`))[0]?.n ?? 0)
    const [{ db }] = await pgRows('SELECT current_database() AS db')
    n += Number((await pgRows(`SELECT count(*) AS n FROM pg_prepared_xacts WHERE starts_with(gid, '${preparedPrefix(String(db), schema, 'rows', `conf/sink-1/${k}`)}')`))[0].n)
  }
  return n
}

/** Each scenario writes to a Postgres schema of its own, named after its folder. */
function pgSchema(dir: string): string {
  return `conf_${basename(dir).replace(/[^A-Za-z0-9]/g, '_').toLowerCase()}`
}

async function pgRows(sql: string): Promise<Record<string, unknown>[]> {
  const { default: pg } = await import('pg')
  const c = new pg.Client({ connectionString: pgUrl() })
  await c.connect()
  try {
    return (await c.query(sql).catch((e: { code?: string }) => (e.code === '42P01' ? { rows: [] } : Promise.reject(e)))).rows as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

function redisUrl(): string {
  return String(serviceOrSkip('redis').info?.url)
}

/** The keys of one conformance run: named for its folder. */
function redisPrefix(dir: string): string {
  return `conf:${basename(dir)}:`
}
