import { padTraces, traceRecord, type Position } from '../../core/batch.ts'
import { parseDuration, type Duration } from '../../core/duration.ts'
import { SluiceError, userError } from '../../core/errors.ts'
import { END, type Source, type SourceContext, type SourceOptions, type SourceRead, type SourceReader } from '../../core/source.ts'
import { checkSeek } from '../resume.ts'
import { createClient, createCluster, isKafkaError, kafkaMessage, type Cluster, type KafkaConnection, type WireRecord } from './client.ts'
import { decoderFor, type KafkaCodec, type KafkaFormat, type KafkaRecordMeta } from './decode.ts'
import { deliverable } from './read-committed.ts'
import { retryTransient } from './retry.ts'
import { TRACEPARENT_HEADER, traceparentOf } from '../../observe/trace/context.ts'
import { commitGroupOffsets, groupOffsets } from './groups.ts'

/**
 * Options of `source.kafka`: where to connect, what to read, from where, and how values are decoded.
 * @example source.kafka({ brokers: 'localhost:9092', topics: ['clicks'], from: 'committed', group: 'sessions', format: 'json' })
 */
export interface KafkaSourceOptions<T> extends SourceOptions<T>, KafkaConnection {
  /** The topics to read (one or several). Either this or `pattern`. */
  topics?: string | readonly string[]
  /** Reads every topic whose name matches: those found when the pipeline starts, and those created later (`discoveryInterval`). */
  pattern?: RegExp
  /**
   * How often an unbounded source looks for topics created since that match `pattern`, and for partitions
   * added to its topics (default '30s'; false: never). What it finds is read from the earliest offset, on the
   * first subtask until the next restore spreads it like the others.
   */
  discoveryInterval?: Duration | false
  /**
   * Where a partition starts when no checkpoint says: 'earliest' (default), 'latest', 'committed' (the
   * group's committed offset, else earliest) or `{ timestamp }` (the first record at or after it, epoch ms).
   */
  from?: 'earliest' | 'latest' | 'committed' | { timestamp: number }
  /** A consumer group: the source commits its checkpointed offsets to it when a checkpoint completes (lag tools see progress). */
  group?: string
  /** 'read_committed' (default): records of aborted or open transactions are never delivered. */
  isolation?: 'read_committed' | 'read_uncommitted'
  /** How record values become stream values: 'json' (default), 'string' or 'bytes' (a Uint8Array). */
  format?: KafkaFormat
  /** A decoder of your own, given the value's bytes and the record's metadata; throwing makes the record malformed. */
  decode?: (value: Buffer, meta: KafkaRecordMeta) => T
  /**
   * A value format with set-up work, such as Confluent-framed Avro whose writer schemas come from a schema
   * registry (`avroRegistry(contract, { registry })`); its `decode` takes the place of `decode`/`format`.
   */
  codec?: KafkaCodec<T>
  /** Emit `KafkaRecord`s (topic, partition, offset, timestamp, key, headers, value) instead of bare values. */
  metadata?: boolean
  /** Read what the partitions hold when the pipeline starts, then end (a bounded source). Default false. */
  stopAtEnd?: boolean
  /** How long a fetch waits on the broker when nothing is new. Default '100ms'. */
  pollInterval?: Duration
  /** Bytes one fetch takes from one partition at most (default 1 MiB). */
  maxBytesPerPartition?: number
}

/**
 * A record with its metadata, emitted with `metadata: true`.
 * @example source.kafka<KafkaRecord<Click>>({ brokers, topics: 'clicks', metadata: true, eventTime: (r) => r.timestamp })
 */
export interface KafkaRecord<V> extends KafkaRecordMeta {
  value: V
}

interface Part {
  topic: string
  partition: number
  /** Next offset to fetch. */
  fetchAt: number
  /** After the last record `read` returned (the checkpointed position). */
  next: number
  /** Bounded runs end here (the end offset at start); Infinity otherwise. */
  stop: number
  /** Fetched records not yet returned, and where the next fetch starts once they are. */
  buffer: WireRecord[]
  bufferAt: number
  endAt: number
  /** Read at least once by this subtask: included in fetches and offset commits. */
  wanted: boolean
  /** The partition's high watermark in the last fetch response (NaN before one). */
  highWatermark: number
}

/**
 * Reads Kafka topics. Each topic partition is a source partition, so partitions are divided among the
 * source's subtasks; each keeps its own watermark (with `idleTimeout`, a silent one stops holding the others
 * back). Resumable: a checkpoint holds the next offset of every partition; when it completes, the offsets are
 * committed to `group`. Reads committed data only by default (`isolation`).
 * @example source.kafka({ brokers: 'localhost:9092', topics: 'clicks', group: 'sessions', eventTime: (c) => c.ts, idleTimeout: '30s' })
 */
export function kafka<T = any>(options: KafkaSourceOptions<T>): Source<T> {
  const o = checkOptions(options)
  return {
    kind: 'kafka',
    bounded: options.stopAtEnd === true,
    options,
    describe: () => ({
      kind: 'kafka',
      brokers: options.brokers,
      topics: o.topics ?? null,
      pattern: options.pattern?.source ?? null,
      from: typeof o.from === 'string' ? o.from : 'timestamp',
      group: options.group ?? null,
      isolation: o.isolation,
      format: options.codec !== undefined ? 'codec' : options.decode !== undefined ? 'custom' : o.format,
      stopAtEnd: options.stopAtEnd === true,
    }),
    open: (ctx) => openReader(options, o, ctx),
  }
}

function checkOptions<T>(options: KafkaSourceOptions<T>) {
  if (typeof options !== 'object' || options === null) throw userError('SLUICE_BAD_ARGUMENT', 'source.kafka needs options: { brokers, topics | pattern }')
  if (options.brokers === undefined || (typeof options.brokers !== 'string' && !Array.isArray(options.brokers))) throw userError('SLUICE_BAD_OPTION', "source.kafka: 'brokers' is required, e.g. 'localhost:9092'")
  const topics = options.topics === undefined ? undefined : typeof options.topics === 'string' ? [options.topics] : [...options.topics]
  if ((topics === undefined) === (options.pattern === undefined)) throw userError('SLUICE_BAD_OPTION', "source.kafka: give either 'topics' or 'pattern'")
  if (topics !== undefined && (topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === ''))) throw userError('SLUICE_BAD_OPTION', "source.kafka: 'topics' must be topic names")
  if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) throw userError('SLUICE_BAD_OPTION', "source.kafka: 'pattern' must be a RegExp")
  const isolation = options.isolation ?? 'read_committed'
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw userError('SLUICE_BAD_OPTION', `source.kafka: isolation must be 'read_committed' or 'read_uncommitted', got '${String(isolation)}'`)
  const from = options.from ?? 'earliest'
  const fromOk = from === 'earliest' || from === 'latest' || from === 'committed' || (typeof from === 'object' && from !== null && Number.isFinite(from.timestamp))
  if (!fromOk) throw userError('SLUICE_BAD_OPTION', "source.kafka: from must be 'earliest', 'latest', 'committed' or { timestamp }")
  if (from === 'committed' && options.group === undefined) throw userError('SLUICE_BAD_OPTION', "source.kafka: from 'committed' needs a 'group'")
  const format = options.format ?? 'json'
  if (format !== 'json' && format !== 'string' && format !== 'bytes') throw userError('SLUICE_BAD_OPTION', `source.kafka: format must be 'json', 'string' or 'bytes', got '${String(format)}'`)
  if (options.decode !== undefined && typeof options.decode !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.kafka: decode must be a function')
  if (options.codec !== undefined && typeof options.codec?.decode !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.kafka: codec must have a decode function')
  const pollMs = parseDuration(options.pollInterval ?? '100ms', 'source.kafka pollInterval', { allowZero: false })
  const maxBytes = options.maxBytesPerPartition ?? 1 << 20
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 256) throw userError('SLUICE_BAD_OPTION', 'source.kafka: maxBytesPerPartition must be an integer of at least 256')
  const discoverMs = options.discoveryInterval === false || options.stopAtEnd === true ? undefined : parseDuration(options.discoveryInterval ?? '30s', 'source.kafka discoveryInterval', { allowZero: false })
  return { topics, isolation, from, format, pollMs, maxBytes, discoverMs }
}

type Checked = ReturnType<typeof checkOptions>

async function openReader<T>(options: KafkaSourceOptions<T>, o: Checked, ctx: SourceContext): Promise<SourceReader<T>> {
  const step = ctx.stepId
  const fail = (e: unknown, what: string): SluiceError =>
    e instanceof SluiceError ? e : new SluiceError('SLUICE_SOURCE_FAILED', `source.kafka: ${what}: ${kafkaMessage(e)}`, { domain: 'external', step, cause: e, retryable: true })
  const cluster = createCluster(createClient(options), o.isolation)
  try {
    await cluster.connect()
  } catch (e) {
    throw new SluiceError('SLUICE_SOURCE_FAILED', `source.kafka: cannot reach the brokers: ${kafkaMessage(e)}`, { domain: 'external', step, cause: e, retryable: true, hint: 'check brokers (host:port) and that Kafka runs' })
  }
  let parts: Part[]
  try {
    parts = await listPartitions(cluster, o.topics, options.pattern, step)
    await startOffsets(cluster, parts, options, o, options.stopAtEnd === true)
    await options.codec?.open?.([...new Set(parts.map((p) => p.topic))], 'source')
  } catch (e) {
    await cluster.disconnect().catch(() => undefined)
    throw fail(e, 'cannot read the topics')
  }
  const decode = decoderFor<T>(options.codec?.decode ?? options.decode, o.format, options.metadata === true)
  const prepare = options.codec?.prepare
  const isolationLevel = o.isolation === 'read_committed' ? 1 : 0
  let round: Promise<void> | undefined
  let closed = false
  /** Positions at each checkpoint not yet complete, oldest first (committed to the group on completion). */
  /** Each checkpoint's offsets by partition (the list of partitions may grow or be reordered before it completes). */
  const snapshots: { p: Part; offset: number }[][] = []

  /** One fetch of every wanted partition that has nothing buffered, one request per leader. */
  async function fetchRound(): Promise<void> {
    const byLeader = new Map<number, Part[]>()
    for (const p of parts) {
      if (!p.wanted || p.buffer.length > 0 || p.fetchAt >= p.stop) continue
      const leader = cluster.findTopicPartitionMetadata(p.topic).find((m) => m.partitionId === p.partition)?.leader ?? -1
      let list = byLeader.get(leader)
      if (list === undefined) byLeader.set(leader, (list = []))
      list.push(p)
    }
    await Promise.all([...byLeader].map(([leader, list]) => fetchFrom(leader, list)))
  }

  async function fetchFrom(leader: number, list: Part[]): Promise<void> {
    const topics = new Map<string, { partition: number; fetchOffset: string; maxBytes: number }[]>()
    for (const p of list) {
      let t = topics.get(p.topic)
      if (t === undefined) topics.set(p.topic, (t = []))
      t.push({ partition: p.partition, fetchOffset: String(p.fetchAt), maxBytes: o.maxBytes })
    }
    let res
    try {
      const broker = await cluster.findBroker({ nodeId: leader })
      res = await broker.fetch({ replicaId: -1, isolationLevel, maxWaitTime: o.pollMs, minBytes: 1, maxBytes: o.maxBytes * list.length, topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) })
    } catch (e) {
      if (isKafkaError(e, 'OFFSET_OUT_OF_RANGE')) {
        throw new SluiceError('SLUICE_SOURCE_FAILED', 'source.kafka: a partition no longer holds the offset to read (deleted by retention)', { domain: 'external', step, cause: e, hint: "restart with from: 'earliest' and without the checkpoint, or keep data longer than checkpoints are apart" })
      }
      if ((e as { retriable?: boolean }).retriable === true || (e as { name?: string }).name === 'KafkaJSBrokerNotFound' || (e as { name?: string }).name === 'KafkaJSConnectionError') {
        await cluster.refreshMetadata().catch(() => undefined)
        return
      }
      throw fail(e, 'fetch failed')
    }
    for (const t of res.responses) {
      for (const fp of t.partitions) {
        const p = list.find((x) => x.topic === t.topicName && x.partition === fp.partition)
        if (p === undefined) continue
        p.highWatermark = Number(fp.highWatermark)
        const raw = fp.messages.filter((m) => Number(m.offset) >= p.fetchAt)
        if (raw.length === 0) continue
        const last = Number(raw[raw.length - 1].offset)
        const kept = o.isolation === 'read_committed' ? deliverable(raw, fp.abortedTransactions) : raw.filter((m) => !m.isControlRecord)
        p.buffer = p.stop === Infinity ? kept : kept.filter((m) => Number(m.offset) < p.stop)
        if (prepare !== undefined && p.buffer.length > 0) await prepareValues(p.buffer)
        p.bufferAt = 0
        p.endAt = Math.min(last + 1, p.stop)
        p.fetchAt = p.endAt
        if (p.buffer.length === 0) p.next = p.endAt
      }
    }
  }

  /** The codec's set-up for a fetch's values (writer schemas); a failure there is the record's to report, at decode. */
  async function prepareValues(records: WireRecord[]): Promise<void> {
    try {
      await prepare!(records.flatMap((r) => (r.value === null ? [] : [r.value])))
    } catch (e) {
      if (e instanceof SluiceError && e.domain === 'user') return
      throw fail(e, 'the codec could not prepare fetched values')
    }
  }

  function take(p: Part, max: number): SourceRead<T> {
    const values: T[] = []
    const pos: Position[] = []
    const end = Math.min(p.buffer.length, p.bufferAt + max)
    let trace: string | undefined
    let traces: (string | undefined)[] | undefined
    for (let i = p.bufferAt; i < end; i++) {
      const r = p.buffer[i]
      const tp = r.headers?.[TRACEPARENT_HEADER] === undefined ? undefined : traceparentOf(r.headers[TRACEPARENT_HEADER])
      // The batch follows the trace of its first record that has one; each record keeps its own.
      if (trace === undefined) trace = tp
      const position = `${p.topic}/${p.partition}:${r.offset}`
      try {
        values.push(decode(r, p.topic, p.partition))
        pos.push(position)
        if (tp !== undefined) traces = traceRecord(traces, values.length - 1, tp)
      } catch (e) {
        const bytes = r.value ?? Buffer.alloc(0)
        ctx.malformed(e, isUtf8(bytes) ? bytes.toString('utf8') : new Uint8Array(bytes), position)
      }
    }
    p.bufferAt = end
    if (end >= p.buffer.length) {
      p.buffer = []
      p.bufferAt = 0
      p.next = p.endAt
    } else {
      p.next = Number(p.buffer[end].offset)
    }
    return trace === undefined ? { values, times: [], pos } : { values, times: [], pos, trace, ...(traces !== undefined ? { traces: padTraces(traces, values.length) } : {}) }
  }

  async function readPart(p: Part, max: number): Promise<SourceRead<T>> {
    if (round === undefined) round = fetchRound().finally(() => (round = undefined))
    await round
    if (closed) return END
    if (p.buffer.length > 0) return take(p, max)
    if (p.next >= p.stop) return END
    return null
  }

  /** Partitions found since the start (`discoveryInterval`): appended, read from the earliest offset. */
  async function discover(): Promise<number> {
    try {
      let topics = o.topics ?? [...new Set(parts.map((p) => p.topic))]
      if (options.pattern !== undefined) topics = (await cluster.metadata({ topics: [] })).topicMetadata.map((t) => t.topic).filter((t) => !t.startsWith('__') && options.pattern!.test(t))
      await cluster.addMultipleTargetTopics(topics)
      await cluster.refreshMetadata()
      const known = new Set(parts.map(nameOf))
      const found: Part[] = []
      for (const topic of [...topics].sort()) {
        // A partition whose leader is not known yet (a topic just created) is taken at a later look.
        const ids = cluster.findTopicPartitionMetadata(topic).filter((m) => m.leader >= 0).map((m) => m.partitionId).sort((a, b) => a - b)
        for (const partition of ids) if (!known.has(`${topic}/${partition}`)) found.push(newPart(topic, partition))
      }
      if (found.length === 0 || closed) return parts.length
      const earliest = await listOffsets(cluster, found, () => -2, isolationLevel)
      for (const p of found) p.next = p.fetchAt = p.endAt = earliest.get(p) ?? 0
      await options.codec?.open?.([...new Set(found.map((p) => p.topic))], 'source')
      parts.push(...found)
    } catch (e) {
      if (!isRetriable(e)) throw fail(e, 'cannot look for new partitions')
    }
    return parts.length
  }

  return {
    get partitions() {
      return parts.length
    },
    ...(o.discoverMs !== undefined ? { discover, discoverEveryMs: o.discoverMs } : {}),
    splits: () => parts.map(nameOf),
    async adopt(names) {
      const mine = new Map(parts.map((p) => [nameOf(p), p]))
      const missing: Part[] = []
      const next = names.map((n) => {
        const have = mine.get(n)
        if (have !== undefined) return have
        const p = partOf(n)
        missing.push(p)
        return p
      })
      if (missing.length > 0) {
        try {
          await cluster.addMultipleTargetTopics([...new Set(missing.map((p) => p.topic))])
          await startOffsets(cluster, missing, options, o, options.stopAtEnd === true)
        } catch (e) {
          throw fail(e, 'cannot read the topics')
        }
      }
      parts = next
    },
    read(index, max) {
      const p = parts[index]
      if (p === undefined) throw new SluiceError('SLUICE_INTERNAL', `source '${step}' has no partition ${index}`, { domain: 'internal', step })
      if (closed) return END
      p.wanted = true
      if (p.buffer.length > 0) return take(p, max)
      if (p.next >= p.stop) return END
      return readPart(p, max)
    },
    // Consumer lag as Kafka tools give it: the high watermark of the last fetch minus the position.
    lag: (index) => {
      const p = parts[index]
      return Number.isNaN(p.highWatermark) ? 0 : Math.min(p.highWatermark, p.stop) - p.next
    },
    // Named ({ topic, partition, offset }), so that a restore finds every partition whatever the topics are now.
    positions() {
      const at = parts.map((p) => p.next)
      if (options.group !== undefined) {
        snapshots.push(parts.map((p, i) => ({ p, offset: at[i] })))
        if (snapshots.length > 16) snapshots.shift()
      }
      return parts.map((p, i) => ({ topic: p.topic, partition: p.partition, offset: at[i] }) satisfies KafkaPosition)
    },
    async seek(positions) {
      // Checkpoints taken before positions were named: one offset per partition, in the same order.
      if (positions.every((x) => typeof x === 'number')) {
        checkSeek('kafka', positions, parts.length).forEach((at, i) => moveTo(parts[i], at))
        return
      }
      const mine = new Map(parts.map((p) => [nameOf(p), p]))
      const next: Part[] = []
      const added: Part[] = []
      for (const x of positions) {
        const at = checkPosition(x, step)
        const name = `${at.topic}/${at.partition}`
        let p = mine.get(name)
        mine.delete(name)
        if (p === undefined) added.push((p = newPart(at.topic, at.partition)))
        moveTo(p, at.offset)
        next.push(p)
      }
      // Partitions the checkpoint does not know appeared after it was taken: read from the earliest offset.
      const later = [...mine.values()]
      try {
        if (added.length > 0) await cluster.addMultipleTargetTopics([...new Set(added.map((p) => p.topic))])
        const earliest = later.length > 0 ? await listOffsets(cluster, later, () => -2, isolationLevel) : new Map<Part, number>()
        for (const p of later) moveTo(p, earliest.get(p) ?? 0)
      } catch (e) {
        throw fail(e, 'cannot read the topics')
      }
      parts = [...next, ...later]
    },
    async onCheckpointComplete() {
      // Completions come in checkpoint order; one that never completes only leaves the group further behind.
      const at = snapshots.shift()
      if (at === undefined || options.group === undefined) return
      const mine = at.filter((x) => x.p.wanted)
      if (mine.length === 0) return
      try {
        await commitGroupOffsets(cluster, options.group, mine.map((x) => ({ topic: x.p.topic, partition: x.p.partition, offset: x.offset })))
      } catch (e) {
        throw fail(e, `cannot commit offsets to group '${options.group}'`)
      }
    },
    async close() {
      if (closed) return
      closed = true
      await round?.catch(() => undefined)
      await cluster.disconnect().catch(() => undefined)
    },
  }
}

async function listPartitions(cluster: Cluster, topics: string[] | undefined, pattern: RegExp | undefined, step: string): Promise<Part[]> {
  let names = topics
  if (names === undefined) {
    const all = await cluster.metadata({ topics: [] })
    names = all.topicMetadata.map((t) => t.topic).filter((t) => !t.startsWith('__') && pattern!.test(t))
    if (names.length === 0) throw userError('SLUICE_BAD_OPTION', `source.kafka: no topic matches ${String(pattern)}`, { step })
  }
  try {
    await cluster.addMultipleTargetTopics(names)
  } catch (e) {
    if (isKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION')) throw userError('SLUICE_BAD_OPTION', `source.kafka: a topic of ${names.join(', ')} does not exist`, { step, cause: e, hint: 'create it first (kafka-topics --create) or check the name' })
    throw e
  }
  const parts: Part[] = []
  for (const topic of [...names].sort()) {
    const ids = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId).sort((a, b) => a - b)
    for (const partition of ids) parts.push(newPart(topic, partition))
  }
  return parts
}

/**
 * Offsets of `parts` for a ListOffsets timestamp (-2 earliest, -1 latest), one request per leader. A leader that
 * moved, or one that a broker names in its metadata a moment before it serves as one (a topic just created),
 * is looked up again: retriable answers are retried with fresh metadata for up to about 30 s.
 */
async function listOffsets(cluster: Cluster, parts: Part[], timestamp: (p: Part) => number, isolationLevel: number): Promise<Map<Part, number>> {
  return retryTransient(() => listOffsetsOnce(cluster, parts, timestamp, isolationLevel), { transient: isRetriable, between: () => cluster.refreshMetadata().catch(() => undefined) })
}

async function listOffsetsOnce(cluster: Cluster, parts: Part[], timestamp: (p: Part) => number, isolationLevel: number): Promise<Map<Part, number>> {
  const byLeader = new Map<number, Part[]>()
  for (const p of parts) {
    const leader = cluster.findTopicPartitionMetadata(p.topic).find((m) => m.partitionId === p.partition)?.leader ?? -1
    let list = byLeader.get(leader)
    if (list === undefined) byLeader.set(leader, (list = []))
    list.push(p)
  }
  const out = new Map<Part, number>()
  await Promise.all(
    [...byLeader].map(async ([leader, list]) => {
      const broker = await cluster.findBroker({ nodeId: leader })
      const topics = [...new Set(list.map((p) => p.topic))].map((topic) => ({ topic, partitions: list.filter((p) => p.topic === topic).map((p) => ({ partition: p.partition, timestamp: String(timestamp(p)) })) }))
      const res = await broker.listOffsets({ replicaId: -1, isolationLevel, topics })
      for (const t of res.responses) for (const r of t.partitions) out.set(list.find((p) => p.topic === t.topic && p.partition === r.partition)!, Number(r.offset))
    }),
  )
  return out
}

async function startOffsets<T>(cluster: Cluster, parts: Part[], options: KafkaSourceOptions<T>, o: Checked, bounded: boolean): Promise<void> {
  const iso = o.isolation === 'read_committed' ? 1 : 0
  const latest = await listOffsets(cluster, parts, () => -1, iso)
  const earliest = await listOffsets(cluster, parts, () => -2, iso)
  let start: Map<Part, number>
  if (o.from === 'earliest') start = earliest
  else if (o.from === 'latest') start = latest
  else if (o.from === 'committed') {
    const committed = await groupOffsets(cluster, options.group!, parts)
    start = new Map(parts.map((p) => [p, committed.get(p) ?? earliest.get(p)!]))
  } else {
    const ts = o.from.timestamp
    const at = await listOffsets(cluster, parts, () => ts, iso)
    start = new Map(parts.map((p) => [p, at.get(p)! >= 0 ? at.get(p)! : latest.get(p)!]))
  }
  for (const p of parts) {
    p.next = p.fetchAt = p.endAt = start.get(p) ?? 0
    if (bounded) p.stop = latest.get(p) ?? 0
  }
}

/** A partition's position in a checkpoint: the next offset to read. */
interface KafkaPosition {
  topic: string
  partition: number
  offset: number
}

function checkPosition(x: unknown, step: string): KafkaPosition {
  const at = x as Partial<KafkaPosition> | null
  if (typeof at !== 'object' || at === null || typeof at.topic !== 'string' || !Number.isSafeInteger(at.partition) || !Number.isSafeInteger(at.offset) || at.offset! < 0) {
    throw userError('SLUICE_BAD_POSITION', 'source.kafka: a position in the checkpoint is not { topic, partition, offset }', { step, hint: 'restore a checkpoint taken by source.kafka' })
  }
  return at as KafkaPosition
}

/** Topic names hold no '/' (letters, digits, '.', '_', '-'). */
const nameOf = (p: Part): string => `${p.topic}/${p.partition}`

function partOf(name: string): Part {
  const at = name.lastIndexOf('/')
  return newPart(name.slice(0, at), Number(name.slice(at + 1)))
}

function newPart(topic: string, partition: number): Part {
  return { topic, partition, fetchAt: 0, next: 0, stop: Infinity, buffer: [], bufferAt: 0, endAt: 0, wanted: false, highWatermark: NaN }
}

function moveTo(p: Part, offset: number): void {
  p.next = p.fetchAt = p.endAt = offset
  p.buffer = []
  p.bufferAt = 0
}

function isRetriable(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name
  return (e as { retriable?: boolean } | null)?.retriable === true || name === 'KafkaJSBrokerNotFound' || name === 'KafkaJSConnectionError' || name === 'KafkaJSConnectionClosedError'
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b)
    return true
  } catch {
    return false
  }
}
