import type pg from 'pg'
import type { LogicalReplicationService } from 'pg-logical-replication'
import type { Position, RowKind } from '../../../core/batch.ts'
import { SluiceError, errorMessage } from '../../../core/errors.ts'
import type { Source, SourceContext, SourceOptions, SourceReader, SourceRead } from '../../../core/source.ts'
import { ident } from '../../sql/staged-table.ts'
import { redact } from '../dialect.ts'
import { changesOf, type CdcChange, type Pending } from './changes.ts'
import { isLsn, lsnBytes } from './lsn.ts'
import { SnapshotReader, tableName } from './snapshot.ts'
import { lazyRequire } from '../../../core/lazy-require.ts'

const pgLib = lazyRequire<typeof pg>(import.meta.url, 'pg')
const pgReplication = lazyRequire<typeof import('pg-logical-replication')>(import.meta.url, 'pg-logical-replication')

/**
 * Options of `source.postgresCdc`.
 * @example source.postgresCdc({ url, slot: 'orders_cdc', publication: 'orders_pub', tables: ['public.orders'] })
 */
export interface PostgresCdcOptions extends SourceOptions<CdcChange> {
  /** A Postgres connection string; the user needs the REPLICATION attribute (and wal_level=logical on the server). */
  url: string
  /** The logical replication slot: created on a fresh start (replacing one of that name), kept across restarts. */
  slot: string
  /** The publication the slot streams (pgoutput); created for `tables` if missing. */
  publication: string
  /** The captured tables, `name` or `schema.name`. */
  tables: readonly string[]
  /** Read every row of the tables first, consistent with where the stream starts (default true). */
  snapshot?: boolean
  /** Changes held in memory at most before the stream is paused (backpressure; default 10,000). */
  maxQueued?: number
}

/** Where the source stands: after the transaction that ends at `lsn`, with `skip` changes of the next emitted. */
type CdcPosition = { lsn: string; skip: number } | { phase: 'snapshot' }

const POLL_MS = 100
const RETRY_MS = 200
const IN_USE = '55006'

/**
 * Captures inserts, updates and deletes of Postgres tables through logical replication (`pgoutput`, via
 * pg-logical-replication) as a changelog: +I, -U/+U (the -U when the table's replica identity gives the row
 * before, `ALTER TABLE t REPLICA IDENTITY FULL`), -D. A fresh start creates the slot, reads a consistent
 * snapshot of the tables (as +I), then streams from the slot's consistent point. Checkpoints hold the LSN of
 * the last transaction emitted whole and how many changes of the next one were emitted, so a restore
 * neither loses nor repeats a change; the LSN is confirmed to the server when the checkpoint completes, and
 * the server keeps the WAL until then. One partition. Restoring a checkpoint older than the last one
 * completed is not possible (the server discarded what came before the confirmed LSN). A snapshot cannot be
 * resumed part way, so checkpoints (and a stop's last one) wait until it is read whole; a crash during it
 * restores the checkpoint before it and reads a fresh snapshot, so no row counts twice.
 * @example
 * p.from(source.postgresCdc({ url, slot: 'shop', publication: 'shop', tables: ['orders'] }))
 *   .keyBy((c) => String(c.row.customer)).aggregate(agg.sum((c: CdcChange) => Number(c.row.amount)))
 */
export function postgresCdc(options: PostgresCdcOptions): Source<CdcChange> {
  const { url, slot, publication, tables } = options ?? ({} as PostgresCdcOptions)
  if (typeof url !== 'string' || url === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'source.postgresCdc needs a url')
  for (const [name, v] of [['slot', slot], ['publication', publication]] as const) {
    if (typeof v !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(v)) {
      throw new SluiceError('SLUICE_BAD_OPTION', `source.postgresCdc: ${name} must be a lower-case identifier`, { hint: "letters, digits and '_', e.g. 'orders_cdc'" })
    }
  }
  if (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === 'string' && t !== '')) {
    throw new SluiceError('SLUICE_BAD_OPTION', 'source.postgresCdc: tables must list at least one table')
  }
  return {
    kind: 'postgres-cdc',
    bounded: false,
    options,
    describe: () => ({ kind: 'postgres-cdc', url: redact(url), slot, publication, tables: [...tables], snapshot: options.snapshot ?? true }),
    open: (ctx) => new CdcReader(options, ctx),
  }
}

class CdcReader implements SourceReader<CdcChange> {
  readonly partitions = 1
  private readonly o: PostgresCdcOptions
  private readonly ctx: SourceContext
  private readonly maxQueued: number
  private started: Promise<void> | undefined
  private snapshot: SnapshotReader | undefined
  /** The replication connection that exported the snapshot: it must stay open until the snapshot is read. */
  private exporter: pg.Client | undefined
  /** The slot's consistent point: where the stream starts once the snapshot is read. */
  private snapshotEnd = ''
  private service: LogicalReplicationService | undefined
  private queue: Pending[] = []
  private queued = 0
  private wake: (() => void) | undefined
  private room: (() => void) | undefined
  private failure: unknown
  private position: CdcPosition = { phase: 'snapshot' }
  /** Changes of the first streamed transaction to drop: emitted before the restored checkpoint. */
  private skipFirst = 0
  /** The LSN of the last `positions()` (the checkpoint in flight), confirmed when it completes. */
  private checkpointLsn: string | undefined
  private confirmed: string | undefined
  private closed = false
  /** The server's current WAL position in bytes, as last asked (-1 before), for `lag`. */
  private walEnd = -1
  private walAsking = false
  private walClient: pg.Client | undefined
  /** Bytes of the pgoutput messages decoded, for the step's bytesIn (the snapshot's rows add theirs). */
  private streamed = 0
  readonly lagUnit = 'bytes'

  constructor(o: PostgresCdcOptions, ctx: SourceContext) {
    this.o = o
    this.ctx = ctx
    this.maxQueued = o.maxQueued ?? 10_000
  }

  private fail(doing: string, e: unknown): SluiceError {
    return e instanceof SluiceError
      ? e
      : new SluiceError('SLUICE_SOURCE_FAILED', `source.postgresCdc: cannot ${doing} (slot '${this.o.slot}' on ${redact(this.o.url)}): ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.ctx.stepId, cause: e })
  }

  seek(positions: unknown[]): void {
    const p = positions[0] as CdcPosition | null
    if (p !== null && typeof p === 'object' && 'phase' in p && p.phase === 'snapshot') return // the snapshot starts over
    if (p === null || typeof p !== 'object' || !('lsn' in p) || !isLsn(p.lsn) || !Number.isSafeInteger(p.skip) || p.skip < 0) {
      throw new SluiceError('SLUICE_BAD_POSITION', 'source.postgresCdc: a position must be { lsn, skip }', { step: this.ctx.stepId })
    }
    this.position = { lsn: p.lsn, skip: p.skip }
    this.skipFirst = p.skip
    this.confirmed = p.lsn
  }

  holdsBarriers(): boolean {
    return this.snapshot !== undefined
  }

  positions(): unknown[] {
    this.checkpointLsn = 'lsn' in this.position ? this.position.lsn : undefined
    return [{ ...this.position }]
  }

  async onCheckpointComplete(): Promise<void> {
    const lsn = this.checkpointLsn
    if (lsn === undefined || this.service === undefined) return
    this.confirmed = lsn
    await this.service.acknowledge(lsn).catch((e: unknown) => (this.failure ??= this.fail('confirm the LSN', e)))
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      try {
        if ('lsn' in this.position) return this.stream(this.position.lsn)
        await this.prepare()
        const repl = new (pgLib().Client)({ connectionString: this.o.url, replication: 'database' } as pg.ClientConfig)
        repl.on('error', () => undefined)
        await repl.connect()
        const snap = this.o.snapshot ?? true
        const r = await repl.query(`CREATE_REPLICATION_SLOT ${ident(this.o.slot)} LOGICAL pgoutput ${snap ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`)
        const { consistent_point: at, snapshot_name: name } = r.rows[0] as { consistent_point: string; snapshot_name: string | null }
        if (!snap || name === null) {
          await repl.end()
          this.position = { lsn: at, skip: 0 }
          return this.stream(at)
        }
        this.exporter = repl
        this.snapshot = new SnapshotReader(this.o.url, this.o.tables)
        await this.snapshot.begin(name)
        this.snapshotEnd = at
      } catch (e) {
        throw this.fail('start', e)
      }
    })()
    return this.started
  }

  /** A fresh start: the publication exists, and no slot of that name is left from an earlier run. */
  private async prepare(): Promise<void> {
    const c = new (pgLib().Client)({ connectionString: this.o.url })
    c.on('error', () => undefined)
    await c.connect()
    try {
      const pub = await c.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.o.publication])
      if (pub.rows.length === 0) {
        await c.query(`CREATE PUBLICATION ${ident(this.o.publication)} FOR TABLE ${this.o.tables.map((t) => tableName(t).sql).join(', ')}`).catch((e: unknown) => {
          if (!/already exists/.test(errorMessage(e))) throw e
        })
      }
      await retryInUse(() => c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [this.o.slot]))
    } finally {
      await c.end().catch(() => undefined)
    }
  }

  private async stream(from: string): Promise<void> {
    const service = new (pgReplication().LogicalReplicationService)({ connectionString: this.o.url }, { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } })
    this.service = service
    service.on('data', (lsn: string, msg: { tag: string; commitEndLsn?: string | null }) => this.onMessage(lsn, msg))
    // The server asks for a reply now and then: it gets the confirmed LSN, never one past the last checkpoint.
    service.on('heartbeat', (_lsn: string, _t: number, respond: boolean) => {
      if (respond && this.confirmed !== undefined) void service.acknowledge(this.confirmed).catch(() => undefined)
    })
    service.on('error', (e: unknown) => {
      if (!this.closed) this.failure ??= this.fail('stream changes', e)
      this.wake?.()
    })
    const plugin = new (pgReplication().PgoutputPlugin)({ protoVersion: 1, publicationNames: [this.o.publication] })
    // Every pgoutput message passes through parse with its bytes: counted there, before decoding.
    const parse = plugin.parse.bind(plugin)
    plugin.parse = (buf: Buffer) => {
      this.streamed += buf.length
      return parse(buf)
    }
    // A reader closed before its stream started stops the stream as soon as it has: close() found no
    // connection to end yet.
    service.on('start', () => {
      if (this.closed) void service.stop().catch(() => undefined)
    })
    // A killed run's walsender may hold the slot a moment longer: wait for it.
    const subscribe = async (): Promise<void> => {
      for (let tries = 0; ; tries++) {
        try {
          await service.subscribe(plugin, this.o.slot, from)
          return
        } catch (e) {
          // Closed while the stream was starting: the connection made meanwhile must not outlive the reader.
          if (this.closed) return void (await service.stop().catch(() => undefined))
          if ((e as { code?: string }).code !== IN_USE || tries >= 100) throw e
          await new Promise((r) => setTimeout(r, RETRY_MS))
        }
      }
    }
    void subscribe().catch((e: unknown) => {
      if (!this.closed) this.failure ??= this.fail('start streaming', e)
      this.wake?.()
    })
  }

  /** Queues a decoded message's changes; resolves once there is room (the stream is paused meanwhile). */
  private onMessage(lsn: string, msg: { tag: string; commitEndLsn?: string | null }): Promise<void> | undefined {
    if (msg.tag === 'commit') {
      this.skipFirst = 0
      this.queue.push({ commit: msg.commitEndLsn! })
    } else {
      for (const c of changesOf(msg as Parameters<typeof changesOf>[0])) {
        if (this.skipFirst > 0) {
          this.skipFirst--
          continue
        }
        this.queue.push({ ...c, lsn })
        this.queued++
      }
    }
    this.wake?.()
    if (this.queued < this.maxQueued) return undefined
    return new Promise<void>((r) => (this.room = r))
  }

  async read(_partition: number, max: number): Promise<SourceRead<CdcChange>> {
    await this.start()
    if (this.snapshot !== undefined) return this.readSnapshot(max)
    if (this.failure !== undefined) throw this.failure
    if (this.queue.length === 0) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, POLL_MS)
        this.wake = () => {
          clearTimeout(t)
          r()
        }
      })
      this.wake = undefined
      if (this.failure !== undefined) throw this.failure
    }
    const values: CdcChange[] = []
    const kinds: RowKind[] = []
    const pos: Position[] = []
    let i = 0
    for (; i < this.queue.length; i++) {
      const p = this.queue[i]
      if ('commit' in p) {
        this.position = { lsn: p.commit, skip: 0 }
        continue
      }
      if (values.length === max) break
      values.push(p.change)
      kinds.push(p.kind)
      pos.push(p.lsn)
      const at = this.position as { lsn: string; skip: number }
      this.position = { lsn: at.lsn, skip: at.skip + 1 }
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i)
    this.queued -= values.length
    if (this.queued < this.maxQueued && this.room !== undefined) {
      const r = this.room
      this.room = undefined
      r()
    }
    return values.length === 0 ? null : { values, times: values.map(() => 0), kinds, pos }
  }

  private async readSnapshot(max: number): Promise<SourceRead<CdcChange>> {
    let rows
    try {
      rows = await this.snapshot!.next(max)
    } catch (e) {
      throw this.fail('read the snapshot', e)
    }
    if (rows !== undefined) return { values: rows.map((r) => r.change), times: rows.map(() => 0), kinds: rows.map((r) => r.kind) }
    this.streamed += this.snapshot!.bytes
    this.snapshot = undefined
    await this.exporter?.end().catch(() => undefined)
    this.exporter = undefined
    this.position = { lsn: this.snapshotEnd, skip: 0 }
    this.confirmed = this.snapshotEnd
    await this.stream(this.snapshotEnd)
    return null
  }

  /** The pgoutput messages' bytes, and the snapshot rows' bytes as the server sent them. */
  bytesRead(): number {
    return this.streamed + (this.snapshot?.bytes ?? 0)
  }

  /**
   * WAL bytes between the server's current position and the last transaction emitted (0 until the snapshot is
   * read). The server's position is asked for on a connection of its own, at most one question at a time, so
   * the figure is that of about a second ago; it counts the WAL of every table, not only the published ones.
   */
  lag(): number {
    this.askWalEnd()
    if (this.walEnd < 0 || !('lsn' in this.position)) return 0
    return Math.max(0, this.walEnd - lsnBytes(this.position.lsn))
  }

  private askWalEnd(): void {
    if (this.walAsking || this.closed) return
    this.walAsking = true
    void (async () => {
      try {
        if (this.walClient === undefined) {
          const c = new (pgLib().Client)({ connectionString: this.o.url })
          c.on('error', () => undefined)
          await c.connect()
          if (this.closed) return void (await c.end())
          this.walClient = c
        }
        const r = await this.walClient.query('SELECT pg_current_wal_lsn()::text AS lsn')
        this.walEnd = lsnBytes(String((r.rows[0] as { lsn: string }).lsn))
      } catch {
        // The figure stays as it was; the next question opens a new connection.
        const c = this.walClient
        this.walClient = undefined
        await c?.end().catch(() => undefined)
      } finally {
        this.walAsking = false
      }
    })()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.walClient?.end().catch(() => undefined)
    this.walClient = undefined
    this.room?.()
    await this.snapshot?.close()
    await this.exporter?.end().catch(() => undefined)
    await this.service?.stop().catch(() => undefined)
  }
}

async function retryInUse<R>(fn: () => Promise<R>): Promise<R> {
  for (let tries = 0; ; tries++) {
    try {
      return await fn()
    } catch (e) {
      if ((e as { code?: string }).code !== IN_USE || tries >= 100) throw e
      await new Promise((r) => setTimeout(r, RETRY_MS))
    }
  }
}
