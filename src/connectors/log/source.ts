import { setTimeout as sleep } from 'node:timers/promises'
import { TRACEPARENT_HEADER, traceparentOf } from '../../observe/trace/context.ts'
import { padTraces, traceRecord, type Position } from '../../core/batch.ts'
import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError, userError } from '../../core/errors.ts'
import { END, type Source, type SourceContext, type SourceOptions, type SourceRead, type SourceReader } from '../../core/source.ts'
import type { Log, LogBatch, LogOptions } from '../../log/index.ts'
import { checkSeek } from '../resume.ts'
import type { LogCodec } from './codec.ts'
import { acquireLog } from './shared-log.ts'
import { classify, TxnState } from './txn.ts'

/** A record's place in the log, given to `decode`. */
export interface LogRecordMeta {
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  headers: Record<string, Buffer> | null
}

export interface LogSourceOptions<T> extends SourceOptions<T> {
  /**
   * Where to start: 'earliest' (default: the first stored offset), 'latest' (only records appended after
   * the start), `{ offsets }` (by partition) or `{ timestamp }` (the first record at or after it).
   * A checkpoint's positions take precedence, then the group's committed offsets.
   */
  from?: 'earliest' | 'latest' | { offsets: readonly number[] | Readonly<Record<number, number>> } | { timestamp: number }
  /** A consumer group: start from its committed offsets, and commit how far the source read when it closes. */
  group?: string
  /**
   * 'read_committed' (default): records of a transactional sink appear once their transaction committed,
   * and never if it aborted. 'read_uncommitted': every data record, at once.
   */
  isolation?: 'read_committed' | 'read_uncommitted'
  /** Turns a record's value into a value of the stream; default JSON.parse of its UTF-8 text. Throwing makes it malformed. */
  decode?: (value: Buffer, meta: LogRecordMeta) => T
  /** A format with set-up work, e.g. `avroRegistry(contract, { registry })`; its `decode` replaces `decode`. */
  codec?: LogCodec<T>
  /** Read only what the topic holds when the pipeline starts, then end (a bounded source). Default false. */
  stopAtEnd?: boolean
  /** How long a read waits before polling again when nothing is new. Default '100ms'. */
  pollInterval?: Duration
  /** Options for opening the log, if this source opens it first in the process. */
  log?: LogOptions
}

interface Part {
  next: number
  stop: number
  txns: TxnState
}

/**
 * Reads a topic of the embedded log; each log partition is a source partition, in offset order. Values are
 * JSON by default (`decode`). Resumable: a partition's position is the next offset to read. By default
 * reads committed data only (see `sink.log`'s transactions) and tails the topic (unbounded).
 * @example source.log('data/log', 'clicks', { from: 'earliest', eventTime: (c) => c.ts })
 */
export function log<T = any>(dir: string, topic: string, options: LogSourceOptions<T> = {}): Source<T> {
  if (typeof dir !== 'string' || dir === '') throw userError('SLUICE_BAD_ARGUMENT', 'source.log needs the log folder')
  if (typeof topic !== 'string' || topic === '') throw userError('SLUICE_BAD_ARGUMENT', 'source.log needs a topic name')
  const isolation = options.isolation ?? 'read_committed'
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw userError('SLUICE_BAD_OPTION', `source.log: isolation must be 'read_committed' or 'read_uncommitted', got '${String(isolation)}'`)
  if (options.decode !== undefined && typeof options.decode !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.log: decode must be a function')
  if (options.codec !== undefined && typeof options.codec?.decode !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.log: codec must have a decode function')
  const from = options.from ?? 'earliest'
  if (from !== 'earliest' && from !== 'latest' && !(typeof from === 'object' && from !== null && ('offsets' in from || (('timestamp' in from) && Number.isFinite(from.timestamp))))) {
    throw userError('SLUICE_BAD_OPTION', "source.log: from must be 'earliest', 'latest', { offsets } or { timestamp }")
  }
  const pollMs = parseDuration(options.pollInterval ?? '100ms', 'source.log pollInterval', { allowZero: false })
  const bounded = options.stopAtEnd === true
  return {
    kind: 'log',
    bounded,
    options,
    describe: () => ({ kind: 'log', dir, topic, from: typeof from === 'string' ? from : 'offsets' in from ? 'offsets' : 'timestamp', group: options.group ?? null, isolation, stopAtEnd: bounded }),
    async open(ctx): Promise<SourceReader<T>> {
      const ref = await acquireLog(dir, options.log)
      try {
        return await openReader(ref.log, topic, options, { isolation, bounded, pollMs, release: () => ref.release() }, ctx)
      } catch (e) {
        await ref.release()
        throw e
      }
    },
  }
}

async function openReader<T>(
  log: Log,
  topic: string,
  options: LogSourceOptions<T>,
  cfg: { isolation: string; bounded: boolean; pollMs: number; release: () => Promise<void> },
  ctx: SourceContext,
): Promise<SourceReader<T>> {
  const step = ctx.stepId
  let info
  try {
    info = log.describe(topic)
  } catch (e) {
    throw e instanceof SluiceError ? new SluiceError(e.code, e.message, { step, hint: `create it first, e.g. with sluice log or a pipeline writing to it with sink.log` }) : e
  }
  const parts: Part[] = []
  for (const p of info.partitions) {
    const committed = options.group !== undefined ? log.committedOffset(options.group, topic, p.partition) : undefined
    const next = committed ?? (await startOffset(log, topic, p.partition, p.startOffset, p.endOffset, options.from ?? 'earliest', step))
    parts.push({ next, stop: cfg.bounded ? p.endOffset : Infinity, txns: new TxnState() })
  }
  await options.codec?.open?.([topic], 'source')
  const custom = options.codec?.decode ?? options.decode
  const decode = custom ?? ((v: Buffer) => JSON.parse(v.toString('utf8')) as T)
  const prepare = options.codec?.prepare
  const committedOnly = cfg.isolation === 'read_committed'
  const closing = new AbortController()
  const stop = AbortSignal.any([ctx.signal, closing.signal])
  let closed = false

  async function pause(): Promise<void> {
    if (stop.aborted) return
    // New records wait at most the pipeline's buffer timeout for the next look.
    await sleep(Math.min(cfg.pollMs, ctx.bufferTimeoutMs ?? Infinity), undefined, { signal: stop }).catch(() => undefined)
  }

  /** Reads ahead of a blocked position until the blocking transaction is decided or the log ends. */
  async function scanAhead(index: number, part: Part, from: number): Promise<void> {
    let at = Math.max(from, part.txns.scanned)
    for (;;) {
      const b = await log.readBatch(topic, index, at, { maxRecords: 10_000 })
      if (b.offsets.length === 0) break
      for (let i = 0; i < b.offsets.length; i++) part.txns.note(classify(b.headers?.[i]), b.offsets[i])
      at = b.nextOffset
      part.txns.scanned = at
    }
  }

  async function readPart(index: number, part: Part, max: number): Promise<SourceRead<T>> {
    for (let attempt = 0; ; attempt++) {
      if (closed) return null
      if (part.next >= part.stop) return END
      const b: LogBatch = await log.readBatch(topic, index, part.next, { maxRecords: Math.min(max, part.stop - part.next) })
      if (b.offsets.length === 0) {
        if (cfg.bounded) return END
        await pause()
        return null
      }
      if (prepare !== undefined) await prepareValues(prepare, b.values)
      const values: T[] = []
      const pos: Position[] = []
      let blocked = -1
      let trace: string | undefined
      let traces: (string | undefined)[] | undefined
      for (let i = 0; i < b.offsets.length; i++) {
        const offset = b.offsets[i]
        const c = classify(b.headers?.[i])
        part.txns.note(c, offset)
        if (c.type === 'control') {
          part.next = offset + 1
          continue
        }
        if (c.type === 'data' && committedOnly) {
          const ok = part.txns.decide(c.producer, c.txn, offset)
          if (ok === undefined) {
            blocked = offset
            break
          }
          if (!ok) {
            part.next = offset + 1
            continue
          }
        }
        part.next = offset + 1
        const meta = (): LogRecordMeta => ({ partition: index, offset, timestamp: b.timestamps[i], key: b.keys[i], headers: b.headers?.[i] ?? null })
        const tp = b.headers?.[i]?.[TRACEPARENT_HEADER] === undefined ? undefined : traceparentOf(b.headers[i]![TRACEPARENT_HEADER])
        // The batch follows the trace of its first record that has one; each record keeps its own.
        if (trace === undefined) trace = tp
        try {
          values.push(decode(b.values[i], meta()))
          pos.push(`${topic}/${index}:${offset}`)
          if (tp !== undefined) traces = traceRecord(traces, values.length - 1, tp)
        } catch (e) {
          ctx.malformed(custom === undefined ? new Error('not valid JSON') : e, b.values[i].toString('utf8'), `${topic}/${index}:${offset}`)
        }
      }
      part.txns.prune(part.next)
      if (values.length > 0) return trace === undefined ? { values, times: [], pos } : { values, times: [], pos, trace, ...(traces !== undefined ? { traces: padTraces(traces, values.length) } : {}) }
      if (blocked >= 0) {
        await scanAhead(index, part, blocked)
        if (!decidedAt(part, b, blocked)) {
          if (cfg.bounded) return END
          await pause()
          return null
        }
      }
      // Only markers or aborted records so far: read on, handing control back now and then.
      if (attempt >= 64) return { values, times: [], pos }
    }
  }

  /** The codec's set-up for a read's values (writer schemas); a record it cannot set up is reported at decode. */
  async function prepareValues(fn: NonNullable<LogCodec<T>['prepare']>, values: readonly Buffer[]): Promise<void> {
    try {
      await fn(values)
    } catch (e) {
      if (e instanceof SluiceError && e.domain === 'user') return
      throw e instanceof SluiceError ? e : new SluiceError('SLUICE_SOURCE_FAILED', `source.log: the codec could not prepare the values read from '${topic}'`, { domain: 'external', step, cause: e })
    }
  }

  return {
    partitions: parts.length,
    read(index, max) {
      const part = parts[index]
      if (part === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${index}`, { domain: 'internal', step })
      if (closed) return END
      return readPart(index, part, max)
    },
    positions: () => parts.map((p) => p.next),
    // Records (and transaction markers) appended and not yet read: the log's end offset minus the position.
    lag: (index) => Math.min(log.topic(topic).partitions[index].endOffset, parts[index].stop) - parts[index].next,
    seek(positions) {
      checkSeek('log', positions, parts.length).forEach((at, i) => {
        parts[i].next = at
        parts[i].txns = new TxnState()
      })
    },
    async close() {
      if (closed) return
      closed = true
      closing.abort()
      try {
        if (options.group !== undefined) for (let i = 0; i < parts.length; i++) await log.commitOffset(options.group, topic, i, parts[i].next)
      } finally {
        await cfg.release()
      }
    },
  }
}

/** Whether the transaction of the record at `offset` (in batch `b`) is decided now. */
function decidedAt(part: Part, b: LogBatch, offset: number): boolean {
  const i = b.offsets.indexOf(offset)
  const c = classify(b.headers?.[i])
  return c.type !== 'data' || part.txns.decide(c.producer, c.txn, offset) !== undefined
}

async function startOffset(log: Log, topic: string, partition: number, start: number, end: number, from: NonNullable<LogSourceOptions<unknown>['from']>, step: string): Promise<number> {
  if (from === 'earliest') return start
  if (from === 'latest') return end
  if ('timestamp' in from) return log.offsetForTimestamp(topic, partition, from.timestamp)
  const at = (from.offsets as Record<number, number>)[partition]
  if (at === undefined) return start
  if (!Number.isSafeInteger(at) || at < start || at > end) {
    throw userError('SLUICE_BAD_OPTION', `source.log: offset ${String(at)} of partition ${partition} is outside the stored range ${start}..${end}`, { step })
  }
  return at
}
