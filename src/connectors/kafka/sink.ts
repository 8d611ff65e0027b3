import { INSERT, type Batch } from '../../core/batch.ts'
import { recordTraceparent, TRACEPARENT_HEADER } from '../../observe/trace/context.ts'
import { SluiceError, userError } from '../../core/errors.ts'
import type { RestoredHandle, Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { TwoPhaseCommit } from '../../checkpoint/two-phase-commit.ts'
import { encodeJson } from '../files/encode.ts'
import { createClient, createCluster, defaultPartitioner, kafkaMessage, type Cluster, type KafkaClient, type KafkaConnection, type KafkaProducer, type ProducerMessage } from './client.ts'
import { createTopics } from './topics.ts'
import { KafkaTransactions, type KafkaSinkTxn } from './transactions.ts'
import type { KafkaCodec } from './decode.ts'

/**
 * Options of `sink.kafka`: where to connect, the topic, how records are keyed and encoded, and the guarantee.
 * @example sink.kafka<Click>({ brokers: 'localhost:9092', topic: 'clicks', key: (c) => c.page, guarantee: 'exactly-once' })
 */
export interface KafkaSinkOptions<T> extends KafkaConnection {
  /** The topic written to. It must exist, unless `create` is given. */
  topic: string
  /** The record key; records with the same key go to the same partition (murmur2, as the Java client). */
  key?: (value: T) => string | Buffer | null
  /** Turns a value into the record's value; default its JSON (changelog kinds as in sink.jsonl). */
  encode?: (value: T) => string | Buffer
  /**
   * A value format with set-up work, such as Confluent-framed Avro under a schema id registered when the sink
   * opens (`avroRegistry(contract, { registry })`); its `encode` takes the place of `encode`.
   */
  codec?: KafkaCodec<T>
  /** Record headers of a value. */
  headers?: (value: T) => Record<string, string | Buffer>
  /** The record timestamp (epoch ms) of a value; default the time it is produced. */
  timestamp?: (value: T) => number
  /**
   * 'exactly-once' (default): with checkpoints, each checkpoint's records are committed in Kafka transactions
   * tied to it (read them with read_committed). 'at-least-once': an idempotent producer, flushed at each
   * checkpoint; a restart may write records again.
   */
  guarantee?: 'exactly-once' | 'at-least-once'
  /** Prefix of the sink's transactional ids (default `sluice-<pipeline>-<step>`); unique per sink across jobs. */
  transactionalIdPrefix?: string
  /**
   * How long the broker keeps a transaction open (ms, default 900000, the broker's usual maximum). A
   * transaction spans a checkpoint interval and the wait for the checkpoint to complete: keep checkpoints
   * well inside it.
   */
  transactionTimeout?: number
  /** Create the topic when it does not exist, with these settings. */
  create?: { partitions?: number; replicationFactor?: number }
}

/** Records buffered before a produce request is sent (fewer when a checkpoint comes). */
const LINGER_RECORDS = 4000

/**
 * Writes to a Kafka topic. With checkpoints it is exactly-once for read_committed readers: the records
 * between two barriers go into one Kafka transaction, prepared at the barrier and committed when the
 * checkpoint completes; a process that dies in between is replaced by one that commits the prepared
 * transaction by its producer id and epoch, and a marker committed inside every transaction tells it which
 * are already committed (README.md beside this file). Without checkpoints, or with `guarantee:
 * 'at-least-once'`, an idempotent producer writes as records come.
 * @example .to(sink.kafka({ brokers: 'localhost:9092', topic: 'counts', key: (r) => r.page }))
 */
export function kafka<T>(options: KafkaSinkOptions<T>): Sink<T> {
  checkOptions(options)
  const exactly = (options.guarantee ?? 'exactly-once') === 'exactly-once'
  return {
    kind: 'kafka',
    guarantee: exactly ? 'exactly-once' : 'at-least-once',
    guaranteeFor: (run) => (run.checkpointing && exactly ? 'exactly-once' : 'at-least-once'),
    describe: () => ({
      kind: 'kafka',
      brokers: options.brokers,
      topic: options.topic,
      keyed: options.key !== undefined,
      commit: exactly ? 'Kafka transactions tied to checkpoints (read_committed readers); idempotent producer without checkpoints' : 'idempotent producer, flushed at checkpoints',
    }),
    async open(ctx): Promise<SinkWriter<T>> {
      const client = createClient(options)
      const cluster = createCluster(client)
      try {
        await cluster.connect()
        await ensureTopic(client, cluster, options)
        await options.codec?.open?.([options.topic], 'sink')
      } catch (e) {
        await cluster.disconnect().catch(() => undefined)
        throw e instanceof SluiceError
          ? e
          : new SluiceError('SLUICE_SINK_OPEN_FAILED', `sink.kafka: cannot open topic '${options.topic}': ${kafkaMessage(e)}`, { domain: 'external', step: ctx.stepId, cause: e, retryable: true, hint: 'check brokers (host:port), that Kafka runs and that the topic exists' })
      }
      return exactly && ctx.checkpointing === true ? new TransactionalWriter<T>(client, cluster, options, ctx) : new IdempotentWriter<T>(client, cluster, options, ctx)
    },
  }
}

function checkOptions<T>(o: KafkaSinkOptions<T>): void {
  if (typeof o !== 'object' || o === null) throw userError('SLUICE_BAD_ARGUMENT', 'sink.kafka needs options: { brokers, topic }')
  if (o.brokers === undefined || (typeof o.brokers !== 'string' && !Array.isArray(o.brokers))) throw userError('SLUICE_BAD_OPTION', "sink.kafka: 'brokers' is required, e.g. 'localhost:9092'")
  if (typeof o.topic !== 'string' || o.topic === '') throw userError('SLUICE_BAD_OPTION', "sink.kafka: 'topic' is required")
  for (const f of ['key', 'encode', 'headers', 'timestamp'] as const) if (o[f] !== undefined && typeof o[f] !== 'function') throw userError('SLUICE_BAD_OPTION', `sink.kafka: ${f} must be a function`)
  if (o.codec !== undefined && typeof o.codec?.encode !== 'function') throw userError('SLUICE_BAD_OPTION', 'sink.kafka: codec must have an encode function')
  if (o.guarantee !== undefined && o.guarantee !== 'exactly-once' && o.guarantee !== 'at-least-once') throw userError('SLUICE_BAD_OPTION', "sink.kafka: guarantee must be 'exactly-once' or 'at-least-once'")
  if (o.transactionTimeout !== undefined && (!Number.isSafeInteger(o.transactionTimeout) || o.transactionTimeout < 1000)) throw userError('SLUICE_BAD_OPTION', 'sink.kafka: transactionTimeout must be at least 1000 ms')
}

async function ensureTopic<T>(client: KafkaClient, cluster: Cluster, o: KafkaSinkOptions<T>): Promise<void> {
  if (o.create !== undefined) await createTopics(client, [{ topic: o.topic, numPartitions: o.create.partitions ?? 1, replicationFactor: o.create.replicationFactor ?? 1 }])
  try {
    await cluster.addMultipleTargetTopics([o.topic])
  } catch (e) {
    throw userError('SLUICE_BAD_OPTION', `sink.kafka: topic '${o.topic}' does not exist`, { cause: e, hint: 'create it, or pass create: { partitions }' })
  }
}

/** What both writers share: turning values into producer messages, and buffering them into large sends. */
abstract class BufferedWriter<T> implements SinkWriter<T> {
  protected readonly options: KafkaSinkOptions<T>
  protected readonly ctx: SinkContext
  protected readonly client: KafkaClient
  protected readonly cluster: Cluster
  private buffer: ProducerMessage[] = []
  private sending: Promise<void> = Promise.resolve()
  private failure: unknown

  constructor(client: KafkaClient, cluster: Cluster, options: KafkaSinkOptions<T>, ctx: SinkContext) {
    this.client = client
    this.cluster = cluster
    this.options = options
    this.ctx = ctx
  }

  /** Sends messages (in the open transaction, if any). */
  protected abstract send(messages: ProducerMessage[]): Promise<void>

  write(batch: Batch<T>): void | Promise<void> {
    this.check()
    const { values, kinds, trace, traces } = batch
    const { key, headers, timestamp } = this.options
    const encode = this.options.codec?.encode ?? this.options.encode
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const value = encode !== undefined ? encode(v) : encodeJson(v, kinds === undefined ? INSERT : kinds[i])
      if (value === undefined) throw userError('SLUICE_RECORD_UNWRITABLE', `sink.kafka: a record has no JSON form (undefined) and cannot be written to '${this.options.topic}'`)
      const m: ProducerMessage = { value }
      if (key !== undefined) m.key = key(v)
      if (headers !== undefined) m.headers = headers(v)
      // The trace the record was written in goes on with it (a traceparent of the record's own wins).
      // A record read in another trace than the batch's goes on in its own.
      const tp = traces === undefined ? trace : recordTraceparent(trace, traces, i)
      if (tp !== undefined && m.headers?.[TRACEPARENT_HEADER] === undefined) m.headers = { ...m.headers, [TRACEPARENT_HEADER]: tp }
      if (timestamp !== undefined) m.timestamp = String(timestamp(v))
      this.buffer.push(m)
    }
    if (this.buffer.length >= LINGER_RECORDS) return this.flush(false)
  }

  /**
   * Sends what is buffered after the send in flight. With `all`, resolves once everything is acknowledged;
   * otherwise once the previous send is (one send in flight while the next fills: backpressure).
   */
  protected flush(all: boolean): Promise<void> {
    const previous = this.sending
    if (this.buffer.length > 0) {
      const messages = this.buffer
      this.buffer = []
      this.sending = previous.then(() => (this.failure === undefined ? this.send(messages) : undefined)).catch((e: unknown) => {
        this.failure ??= e
      })
    }
    return (all ? this.sending : previous).then(() => this.check())
  }

  protected check(): void {
    if (this.failure === undefined) return
    const e = this.failure
    throw e instanceof SluiceError ? e : new SluiceError('SLUICE_SINK_FAILED', `sink.kafka: cannot write to '${this.options.topic}': ${kafkaMessage(e)}`, { domain: 'external', step: this.ctx.stepId, cause: e, retryable: true })
  }

  abstract close(): Promise<void>
}

/** At-least-once: an idempotent producer (no duplicates from its own retries), flushed at every barrier. */
class IdempotentWriter<T> extends BufferedWriter<T> {
  private producer: KafkaProducer | undefined

  protected async send(messages: ProducerMessage[]): Promise<void> {
    if (this.producer === undefined) {
      this.producer = this.client.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: defaultPartitioner, allowAutoTopicCreation: false })
      await this.producer.connect()
    }
    await this.producer.send({ topic: this.options.topic, messages, acks: -1 })
  }

  async preCommit(): Promise<unknown> {
    await this.flush(true)
    return null
  }

  commit(): void {}

  async close(): Promise<void> {
    try {
      await this.flush(true)
    } finally {
      await this.producer?.disconnect().catch(() => undefined)
      await this.cluster.disconnect().catch(() => undefined)
    }
  }
}

/** Exactly-once: the records between two barriers in one Kafka transaction, committed through TwoPhaseCommit. */
class TransactionalWriter<T> extends BufferedWriter<T> {
  private readonly txns: KafkaTransactions
  private readonly tpc: TwoPhaseCommit<KafkaSinkTxn>

  constructor(client: KafkaClient, cluster: Cluster, options: KafkaSinkOptions<T>, ctx: SinkContext) {
    super(client, cluster, options, ctx)
    this.txns = new KafkaTransactions(client, cluster, {
      topic: options.topic,
      prefix: options.transactionalIdPrefix ?? `sluice-${ctx.pipeline}-${ctx.stepId}`,
      subtask: ctx.subtask,
      parallelism: ctx.parallelism ?? 1,
      transactionTimeout: options.transactionTimeout ?? 900_000,
      step: ctx.stepId,
      flush: () => this.flush(true),
    })
    this.tpc = new TwoPhaseCommit(this.txns, ctx, 'sink.kafka')
  }

  override write(batch: Batch<T>): void | Promise<void> {
    // A writer never told what to recover fences its old transactions before its first one.
    if (!this.tpc.recovered) return this.tpc.ensureRecovered().then(() => super.write(batch))
    return super.write(batch)
  }

  protected send(messages: ProducerMessage[]): Promise<void> {
    return this.txns.send(messages)
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

  /** Input ended. Records after the last checkpoint (a stopped run) are aborted: a restore writes them again. */
  async close(): Promise<void> {
    try {
      await this.flush(true).catch(() => undefined)
      await this.txns.close()
    } finally {
      await this.cluster.disconnect().catch(() => undefined)
    }
  }
}
