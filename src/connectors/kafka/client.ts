// The Kafka client under the connectors: kafkajs 2.2.4 (pure JavaScript, pinned exactly). Its producer is used
// as published; the source and the sink's recovery speak to brokers one request at a time through the client's
// own cluster and broker objects (fetch, list offsets, offset commit/fetch, init producer id, end transaction),
// which kafkajs builds but does not export: the exact pin keeps their shape fixed. See README.md for why.
import { createRequire } from 'node:module'
import { SluiceError } from '../../core/errors.ts'

const wrapped = Symbol.for('sluice.kafka.initProducerId')
interface KafkaJs {
  Kafka: new (cfg: Record<string, unknown>) => KafkaClient
  logLevel: Record<string, number>
  Partitioners: { DefaultPartitioner: (...args: unknown[]) => unknown }
}

let loaded: KafkaJs | undefined
/** kafkajs, loaded and patched on first use (a pipeline without Kafka never pays for loading it). */
function kafkajs(): KafkaJs {
  if (loaded === undefined) {
    loaded = createRequire(import.meta.url)('kafkajs') as KafkaJs
    patchKafkaJs()
  }
  return loaded
}

/** Murmur2 of the key, as the Java client partitions (records without a key are spread round-robin). */
export const defaultPartitioner = (...args: unknown[]): unknown => kafkajs().Partitioners.DefaultPartitioner(...args)

export interface KafkaClient {
  producer(cfg: Record<string, unknown>): KafkaProducer
  admin(): KafkaAdmin
}

export interface KafkaProducer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(req: { topic: string; messages: ProducerMessage[]; acks?: number }): Promise<unknown>
  sendBatch(req: { topicMessages: { topic: string; messages: ProducerMessage[] }[]; acks?: number }): Promise<unknown>
  transaction(): Promise<KafkaTransaction>
}

export interface KafkaTransaction {
  send(req: { topic: string; messages: ProducerMessage[] }): Promise<unknown>
  sendBatch(req: { topicMessages: { topic: string; messages: ProducerMessage[] }[] }): Promise<unknown>
  sendOffsets(req: { consumerGroupId: string; topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string }[] }[] }): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
  isActive(): boolean
}

export interface KafkaAdmin {
  connect(): Promise<void>
  disconnect(): Promise<void>
  createTopics(req: { topics: { topic: string; numPartitions?: number; replicationFactor?: number; configEntries?: { name: string; value: string }[] }[]; waitForLeaders?: boolean }): Promise<boolean>
  listTopics(): Promise<string[]>
  fetchTopicMetadata(req: { topics: string[] }): Promise<{ topics: { name: string; partitions: { partitionId: number; leader: number }[] }[] }>
  deleteTopics(req: { topics: string[] }): Promise<void>
  fetchOffsets(req: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]>
}

export interface ProducerMessage {
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: Record<string, Buffer | string>
  timestamp?: string
}

/** A record as a fetch returns it (kafkajs's decoding). */
export interface WireRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: Record<string, Buffer | Buffer[]>
  isControlRecord: boolean
  batchContext: { producerId: string; inTransaction: boolean }
}

export interface FetchedPartition {
  partition: number
  errorCode: number
  highWatermark: string
  lastStableOffset: string
  abortedTransactions: { producerId: string; firstOffset: string }[]
  messages: WireRecord[]
}

interface Broker {
  fetch(req: Record<string, unknown>): Promise<{ responses: { topicName: string; partitions: FetchedPartition[] }[] }>
  listOffsets(req: Record<string, unknown>): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string; errorCode: number }[] }[] }>
  offsetCommit(req: Record<string, unknown>): Promise<unknown>
  offsetFetch(req: Record<string, unknown>): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[] }>
  initProducerId(req: { transactionalId: string; transactionTimeout: number }): Promise<{ producerId: string; producerEpoch: number }>
  endTxn(req: { transactionalId: string; producerId: string; producerEpoch: number; transactionResult: boolean }): Promise<unknown>
}

/** The part of kafkajs's cluster object the connectors use. */
export interface Cluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  refreshMetadata(): Promise<void>
  metadata(req?: { topics?: string[] }): Promise<{ topicMetadata: { topic: string; partitionMetadata: { partitionId: number; leader: number }[] }[] }>
  addMultipleTargetTopics(topics: string[]): Promise<void>
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[]
  findBroker(req: { nodeId: number }): Promise<Broker>
  findGroupCoordinator(req: { groupId: string; coordinatorType?: number }): Promise<Broker>
}

export const TRANSACTION_COORDINATOR = 1

/**
 * Connection settings common to `source.kafka` and `sink.kafka`.
 * @example sink.kafka({ brokers: ['k1:9093', 'k2:9093'], ssl: true, sasl: { mechanism: 'scram-sha-512', username, password }, topic: 'out' })
 */
export interface KafkaConnection {
  /** Bootstrap servers, e.g. `'127.0.0.1:9092'` or a list of them. */
  brokers: string | readonly string[]
  /** The client id the brokers see (default `sluice`). */
  clientId?: string
  /** TLS options as Node's `tls.connect` takes them, or true for the defaults. */
  ssl?: boolean | Record<string, unknown>
  /** SASL: `{ mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password }`. */
  sasl?: Record<string, unknown>
  /** How long to wait for a connection, in ms (default 3000). */
  connectionTimeout?: number
}

export function brokerList(c: KafkaConnection): string[] {
  return typeof c.brokers === 'string' ? c.brokers.split(',').map((b) => b.trim()).filter((b) => b !== '') : [...c.brokers]
}

/** A kafkajs client that logs nothing (errors reach the pipeline as SluiceErrors instead). */
export function createClient(c: KafkaConnection): KafkaClient {
  const { Kafka, logLevel } = kafkajs()
  return new Kafka({
    brokers: brokerList(c),
    clientId: c.clientId ?? 'sluice',
    ssl: c.ssl,
    sasl: c.sasl,
    connectionTimeout: c.connectionTimeout ?? 3000,
    requestTimeout: 30_000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2000 },
  })
}

/** kafkajs's cluster object behind a client (the same one its producer and consumer use). */
export function createCluster(client: KafkaClient, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Cluster {
  const sym = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster')
  if (sym === undefined) throw new SluiceError('SLUICE_INTERNAL', 'the Kafka client is not the pinned kafkajs 2.2.4', { domain: 'internal' })
  const create = (client as unknown as Record<symbol, (o: Record<string, unknown>) => Cluster>)[sym]
  return create({ metadataMaxAge: 300_000, allowAutoTopicCreation: false, isolationLevel: isolation === 'read_committed' ? 1 : 0 })
}

/** The text of an error from the client, for a SluiceError's message (never record contents: kafkajs errors carry none). */
export function kafkaMessage(e: unknown): string {
  if (e instanceof Error) return `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`
  return String(e)
}

/** Whether a kafkajs error has this protocol error type (e.g. 'INVALID_PRODUCER_EPOCH'). */
export function isKafkaError(e: unknown, ...types: string[]): boolean {
  const t = (e as { type?: unknown } | null)?.type
  return typeof t === 'string' && types.includes(t)
}

/**
 * The producer id and epoch the broker gave each transactional id in this process. kafkajs keeps them to
 * itself; the sink stores them in its checkpoint handle so that a restarted process can commit a prepared
 * transaction by them (EndTxn), as Flink does. Recorded by wrapping kafkajs's broker `initProducerId`.
 */
export const producerIdentities = new Map<string, { producerId: string; producerEpoch: number }>()

/** Records producer identities and clamps kafkajs's negative timer delay (below); once, at its first load. */
function patchKafkaJs(): void {
  const Broker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype: Broker & { [wrapped]?: true } }
  if (Broker.prototype[wrapped] !== true) {
    const init = Broker.prototype.initProducerId
    Broker.prototype.initProducerId = async function (this: Broker, req) {
      const res = await init.call(this, req)
      if (typeof req.transactionalId === 'string') producerIdentities.set(req.transactionalId, { producerId: String(res.producerId), producerEpoch: res.producerEpoch })
      return res
    }
    Broker.prototype[wrapped] = true
    // kafkajs schedules a timer with a negative delay when nothing is pending, which Node 24 reports with a
    // TimeoutNegativeWarning on stderr for every process that uses it: the same method, with the delay clamped.
    const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
      prototype: { scheduleCheckPendingRequests(this: RequestQueueState): void }
    }
    RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueState) {
      let at = this.throttledUntil - Date.now()
      if (!this.throttleCheckTimeoutId) {
        if (this.pending.length > 0) at = at > 0 ? at : CHECK_PENDING_REQUESTS_INTERVAL
        this.throttleCheckTimeoutId = setTimeout(() => {
          this.throttleCheckTimeoutId = null
          this.checkPendingRequests()
        }, Math.max(1, at))
      }
    }
  }
}

/** The fields of kafkajs's request queue its scheduler reads (kafkajs 2.2.4). */
interface RequestQueueState {
  throttledUntil: number
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null
  pending: unknown[]
  checkPendingRequests(): void
}
const CHECK_PENDING_REQUESTS_INTERVAL = 10
