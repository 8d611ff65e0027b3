import { randomBytes } from 'node:crypto'
import { recordTraceparent, TRACEPARENT_HEADER } from '../../observe/trace/context.ts'
import { INSERT, type Batch } from '../../core/batch.ts'
import { hashKey } from '../../core/key.ts'
import { SluiceError, userError } from '../../core/errors.ts'
import type { RestoredHandle, Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import type { Log, LogOptions, LogRecordInput } from '../../log/index.ts'
import { encodeJson } from '../files/encode.ts'
import { unwritable } from '../../core/record-errors.ts'
import type { LogCodec } from './codec.ts'
import { acquireLog } from './shared-log.ts'
import { CONTROL, PRODUCER, TXN, type ControlKind } from './txn.ts'

export interface LogSinkOptions<T> {
  /** The record key; records with the same key go to the same partition. Without it, batches go round-robin. */
  key?: (value: T) => string
  /** Partitions of the topic if the sink creates it (default 1); an existing topic keeps its own. */
  partitions?: number
  /** Turns a value into the record's value; default its JSON (changelog kinds as in sink.jsonl). */
  encode?: (value: T) => string | Uint8Array
  /** A format with set-up work, e.g. `avroRegistry(contract, { registry })` (opened before the first write); its `encode` replaces `encode`. */
  codec?: LogCodec<T>
  /** Options for opening the log, if this sink opens it first in the process. */
  log?: LogOptions
}

/** One transaction of the sink: its producer and id, and the partitions it wrote to. */
export interface LogSinkTxn {
  producer: string
  txn: string
  partitions: number[]
}

/**
 * Appends to a topic of the embedded log (created if missing). With checkpoints it is transactional, through
 * `TwoPhaseCommit`: records are appended as they come, tagged with the open transaction; pre-commit makes
 * them durable; commit appends a commit marker to each partition written (a second marker is harmless);
 * abort, on restart, appends a fence that aborts the restored producers' transactions not committed. Only
 * readers in read_committed isolation (`source.log`'s default) see exactly-once output; the markers'
 * format is in txn.ts. Without checkpoints records are appended plainly (at-least-once on a rerun). The sink
 * runs as one subtask (one writer per log folder).
 * @example .to(sink.log('data/log', 'counts', { key: (r) => r.page, partitions: 4 }))
 */
export function log<T>(dir: string, topic: string, options: LogSinkOptions<T> = {}): Sink<T> {
  if (typeof dir !== 'string' || dir === '') throw userError('SLUICE_BAD_ARGUMENT', 'sink.log needs the log folder')
  if (typeof topic !== 'string' || topic === '') throw userError('SLUICE_BAD_ARGUMENT', 'sink.log needs a topic name')
  if (options.key !== undefined && typeof options.key !== 'function') throw userError('SLUICE_BAD_OPTION', 'sink.log: key must be a function')
  if (options.encode !== undefined && typeof options.encode !== 'function') throw userError('SLUICE_BAD_OPTION', 'sink.log: encode must be a function')
  if (options.codec !== undefined && typeof options.codec?.encode !== 'function') throw userError('SLUICE_BAD_OPTION', 'sink.log: codec must have an encode function')
  return {
    kind: 'log',
    guarantee: 'exactly-once',
    guaranteeFor: (run) => (run.checkpointing ? 'exactly-once' : 'at-least-once'),
    singleSubtask: true,
    appendOnly: true,
    describe: () => ({ kind: 'log', dir, topic, keyed: options.key !== undefined, commit: 'transactions with checkpoints (read_committed readers); plain appends without' }),
    async open(ctx): Promise<SinkWriter<T>> {
      const ref = await acquireLog(dir, options.log)
      try {
        const t = await ref.log.ensureTopic(topic, options.partitions === undefined ? {} : { partitions: options.partitions })
        await options.codec?.open?.([topic], 'sink')
        return new LogWriter<T>(ref.log, topic, t.partitions.length, options, ctx, () => ref.release())
      } catch (e) {
        await ref.release()
        throw e
      }
    },
  }
}

class LogWriter<T> implements SinkWriter<T> {
  private readonly log: Log
  private readonly topic: string
  private readonly partitions: number
  private readonly options: LogSinkOptions<T>
  private readonly ctx: SinkContext
  private readonly release: () => Promise<void>
  private readonly producer: string
  private readonly transactional: boolean
  /** Unique per writer instance: a restarted sink never reuses a transaction id. */
  private readonly epoch = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  private seq = 0
  /** Partitions the open transaction wrote to. */
  private touched = new Set<number>()
  private readonly tpc: TwoPhaseCommit<LogSinkTxn>
  private inflight = new Set<Promise<unknown>>()
  private failure: unknown
  private rr = 0

  constructor(log: Log, topic: string, partitions: number, options: LogSinkOptions<T>, ctx: SinkContext, release: () => Promise<void>) {
    this.log = log
    this.topic = topic
    this.partitions = partitions
    this.options = options
    this.ctx = ctx
    this.release = release
    this.producer = `${ctx.pipeline}/${ctx.stepId}/${ctx.subtask}`
    this.transactional = ctx.checkpointing === true
    this.tpc = new TwoPhaseCommit(this.txns, ctx, 'sink.log')
  }

  private get txn(): string {
    return `${this.epoch}.${this.seq}`
  }

  write(batch: Batch<T>): Promise<void> | void {
    this.check()
    const { values, kinds, trace, traces } = batch
    if (values.length === 0) return
    // A writer never told what to recover fences its producer before its first transaction, not inside it.
    if (this.transactional && !this.tpc.recovered) return this.tpc.ensureRecovered().then(() => this.write(batch))
    const by = new Map<number, LogRecordInput[]>()
    const control = this.transactional ? { [PRODUCER]: this.producer, [TXN]: this.txn } : undefined
    // Records written in a trace carry its context on.
    const headers = trace === undefined ? control : { ...control, [TRACEPARENT_HEADER]: trace }
    const key = this.options.key
    const encode = this.options.codec?.encode ?? this.options.encode
    const rr = this.rr++ % this.partitions
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const k = key === undefined ? undefined : key(v)
      const p = k === undefined ? rr : (hashKey(k) >>> 0) % this.partitions
      let value: string | Uint8Array | undefined
      try {
        value = encode !== undefined ? encode(v) : encodeJson(v, kinds === undefined ? INSERT : kinds[i])
      } catch (e) {
        if (encode !== undefined || this.ctx.reject === undefined) throw encode !== undefined ? e : unwritable(this.ctx.stepId, e)
        this.ctx.reject(batch, i, unwritable(this.ctx.stepId, e))
        continue
      }
      if (value === undefined) {
        if (this.ctx.reject === undefined) throw unwritable(this.ctx.stepId, undefined)
        this.ctx.reject(batch, i, unwritable(this.ctx.stepId, undefined))
        continue
      }
      const rec: LogRecordInput = { value }
      if (k !== undefined) rec.key = k
      if (traces === undefined) {
        if (headers !== undefined) rec.headers = headers
      } else {
        // A record read in another trace than the batch's goes on in its own.
        const own = recordTraceparent(trace, traces, i)
        if (own !== undefined) rec.headers = { ...control, [TRACEPARENT_HEADER]: own }
        else if (headers !== undefined) rec.headers = headers
      }
      let list = by.get(p)
      if (list === undefined) by.set(p, (list = []))
      list.push(rec)
    }
    const appends: Promise<unknown>[] = []
    for (const [p, recs] of by) {
      this.touched.add(p)
      appends.push(this.log.append(this.topic, p, recs))
    }
    return this.track(Promise.all(appends))
  }

  private track(p: Promise<unknown>): Promise<void> {
    const t = p.then(
      () => undefined,
      (e: unknown) => {
        this.failure ??= e
      },
    )
    this.inflight.add(t)
    void t.finally(() => this.inflight.delete(t))
    return t.then(() => this.check())
  }

  private async settle(): Promise<void> {
    await Promise.all(this.inflight)
    this.check()
  }

  preCommit(checkpointId: number): Promise<unknown> {
    return this.tpc.preCommit(checkpointId)
  }

  commit(checkpointId: number, handle: unknown): Promise<void> {
    return this.tpc.commit(checkpointId, handle)
  }

  recover(restored: readonly RestoredHandle[]): Promise<void> {
    return this.tpc.recover(restored)
  }

  /** The log's transactions, for the two-phase commit. */
  private readonly txns: Transactions<LogSinkTxn> = {
    preCommit: async () => {
      await this.settle()
      await this.log.flush()
      if (this.touched.size === 0) return undefined
      const txn = { producer: this.producer, txn: this.txn, partitions: [...this.touched].sort((a, b) => a - b) }
      this.touched = new Set()
      this.seq++
      return txn
    },
    commit: (t) => this.mark('commit', t.producer, t.txn, t.partitions),
    abort: async (scope: AbortScope) => {
      const all = Array.from({ length: this.partitions }, (_, p) => p)
      const prefix = this.producer.slice(0, this.producer.lastIndexOf('/') + 1)
      for (const j of scope.subtasks) if (scope.owns(j)) await this.mark('fence', `${prefix}${j}`, '', all)
      await this.log.flush()
    },
    check: (txn) => checkTxn(txn, this.ctx.stepId),
    legacy: (h) => {
      const o = h as { producer?: unknown; txns?: { txn?: unknown; partitions?: unknown }[] } | null
      return typeof o?.producer === 'string' && Array.isArray(o.txns) ? o.txns.map((t) => ({ producer: o.producer, txn: t?.txn, partitions: t?.partitions })) : undefined
    },
  }

  private async mark(kind: ControlKind, producer: string, txn: string, partitions: readonly number[]): Promise<void> {
    const headers: Record<string, string> = { [CONTROL]: kind, [PRODUCER]: producer }
    if (txn !== '') headers[TXN] = txn
    await Promise.all(partitions.map((p) => this.log.append(this.topic, p, [{ value: '', headers }])))
  }

  /** Input ended. Records after the last checkpoint (a stopped run) are aborted: a restore writes them again. */
  async close(): Promise<void> {
    try {
      await this.settle()
      if (this.transactional && this.touched.size > 0) {
        await this.mark('abort', this.producer, this.txn, [...this.touched])
        this.touched = new Set()
        this.seq++
      }
    } finally {
      await this.release()
    }
  }

  private check(): void {
    if (this.failure !== undefined) {
      const e = this.failure
      throw e instanceof SluiceError ? e : new SluiceError('SLUICE_SINK_FAILED', `sink.log: cannot append to '${this.topic}'`, { domain: 'external', step: this.ctx.stepId, cause: e })
    }
  }
}

function checkTxn(txn: unknown, step: string): LogSinkTxn {
  const t = txn as LogSinkTxn | null
  const ok = typeof t === 'object' && t !== null && typeof t.producer === 'string' && typeof t.txn === 'string' && Array.isArray(t.partitions) && t.partitions.every((p) => Number.isInteger(p) && p >= 0)
  if (!ok) throw new SluiceError('SLUICE_BAD_POSITION', 'sink.log: a transaction in the checkpoint handle must be { producer, txn, partitions }', { domain: 'internal', step })
  return t
}
