import { SluiceError } from '../../core/errors.ts'
import { TwoPhaseCommit, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import { CHECKPOINT_HEADER } from '../../dlq/commits.ts'
import { BufferedLetterWriter } from '../../dlq/buffered-letter-writer.ts'
import type { DeadLetter } from '../../dlq/record.ts'
import { committedLater } from '../../dlq/writer.ts'
import { createClient, createCluster, kafkaMessage, type Cluster, type KafkaClient, type KafkaConnection, type KafkaProducer, type ProducerMessage } from './client.ts'
import { kafkaLetterStore } from './letter-store.ts'
import { createTopics } from './topics.ts'
import { KafkaTransactions, type KafkaSinkTxn } from './transactions.ts'

/**
 * Where a `KafkaDeadLetterWriter` writes: the cluster, the topic, and whether the run takes checkpoints.
 * @example KafkaDeadLetterWriter.open({ brokers: 'localhost:9092', topic: 'clicks.dlq', pipeline: 'clicks', checkpointing: true })
 */
export interface KafkaDeadLetterWriterOptions extends KafkaConnection {
  topic: string
  /** The pipeline's name: the default transactional id prefix is `sluice-<pipeline>-dlq`. */
  pipeline: string
  /** True when the run takes checkpoints (letters then go out in transactions committed with them). */
  checkpointing?: boolean
  transactionalIdPrefix?: string
  /** How long the broker keeps a transaction open, ms (default 900000). */
  transactionTimeout?: number
  /** Under checkpoints, letters buffered beyond this many bytes (default 4 MiB) are sent into the open transaction at once. */
  spillBytes?: number
}

/**
 * Writes dead letters to partition 0 of a Kafka topic, with the dead-letter writer's contract (`LetterWriter`).
 * Under checkpoints the letters of each checkpoint go into one Kafka transaction (`KafkaTransactions`, as
 * sink.kafka does), prepared at its barrier and committed once it is complete, so read_committed readers see
 * each letter once whatever crashes; without checkpoints an idempotent producer sends them after every batch
 * that produced some (at-least-once). A letter is the same JSON as in the embedded log, keyed by its step, with
 * the header `sluice-checkpoint` saying which checkpoint wrote it. Buffering, checkpoint cuts and spilling are
 * `BufferedLetterWriter`'s.
 * @example
 * const w = await KafkaDeadLetterWriter.open({ brokers: 'localhost:9092', topic: 'clicks.dlq', pipeline: 'clicks', checkpointing: true })
 * w.add(letter)
 * await w.commit(7, await w.preCommit(7))
 */
export class KafkaDeadLetterWriter extends BufferedLetterWriter<ProducerMessage> {
  readonly topic: string
  private readonly o: KafkaDeadLetterWriterOptions
  private readonly client: KafkaClient
  private readonly cluster: Cluster
  private readonly txns: KafkaTransactions
  protected readonly tpc: TwoPhaseCommit<KafkaSinkTxn>
  private producer: KafkaProducer | undefined

  private constructor(o: KafkaDeadLetterWriterOptions, client: KafkaClient, cluster: Cluster) {
    super(o.checkpointing, o.spillBytes)
    this.o = o
    this.topic = o.topic
    this.client = client
    this.cluster = cluster
    const step = '$dead-letters'
    this.txns = new KafkaTransactions(client, cluster, {
      topic: o.topic,
      prefix: o.transactionalIdPrefix ?? `sluice-${o.pipeline}-dlq`,
      subtask: 0,
      parallelism: 1,
      transactionTimeout: o.transactionTimeout ?? 900_000,
      step,
      flush: async () => undefined,
    })
    this.tpc = new TwoPhaseCommit(this.letterTxns, { subtask: 0, parallelism: 1, stepId: step }, `dead-letter topic '${o.topic}'`)
  }

  /** Connects and creates the topic (one partition) if it does not exist. */
  static async open(o: KafkaDeadLetterWriterOptions): Promise<KafkaDeadLetterWriter> {
    const client = createClient(o)
    const cluster = createCluster(client)
    try {
      await cluster.connect()
      await createTopics(client, [{ topic: o.topic, numPartitions: 1 }])
      await cluster.addMultipleTargetTopics([o.topic])
    } catch (e) {
      await cluster.disconnect().catch(() => undefined)
      throw new SluiceError('SLUICE_DLQ_WRITE_FAILED', `cannot open the dead-letter topic '${o.topic}' on Kafka: ${kafkaMessage(e)}`, { domain: 'external', retryable: true, cause: e, hint: 'check deadLetter.kafka.brokers and that Kafka runs' })
    }
    return new KafkaDeadLetterWriter(o, client, cluster)
  }

  /** Reads the topic (read_committed) and counts the letters committed after checkpoint `restored`. */
  committedAfter(restored: number | undefined): Promise<number> {
    return this.serial(async () => {
      let n = 0
      for await (const s of kafkaLetterStore(this.o).scan(this.topic)) if (s.checkpoint !== undefined && committedLater(s.checkpoint, restored)) n++
      return n
    })
  }

  protected encode(letter: DeadLetter): { record: ProducerMessage; bytes: number } {
    // Partition 0 even in a topic created with more: offsets (and redrive groups) are of one partition.
    const value = JSON.stringify(letter)
    return { record: { partition: 0, key: letter.step, value, timestamp: String(Math.trunc(letter.time)) }, bytes: value.length }
  }

  protected async release(): Promise<void> {
    await this.txns.close().catch(() => undefined)
    await this.producer?.disconnect().catch(() => undefined)
    await this.cluster.disconnect().catch(() => undefined)
  }

  /** The letters' transactions: a pre-commit first sends the letters its call took, with their checkpoint's header. */
  private readonly letterTxns: Transactions<KafkaSinkTxn> = {
    preCommit: async (id) => {
      await this.stageCut(id)
      return this.txns.preCommit()
    },
    commit: (t) => this.txns.commit(t),
    abort: (scope) => this.txns.abort(scope),
    check: (t) => this.txns.check(t),
  }

  protected async stage(letters: ProducerMessage[], checkpoint: string): Promise<void> {
    for (const l of letters) l.headers = { [CHECKPOINT_HEADER]: checkpoint }
    await this.written(letters.length, () => this.txns.send(letters))
  }

  protected async write(letters: ProducerMessage[]): Promise<void> {
    if (letters.length === 0) return
    await this.written(letters.length, async () => {
      if (this.producer === undefined) {
        this.producer = this.client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
        await this.producer.connect()
      }
      await this.producer.send({ topic: this.topic, messages: letters, acks: -1 })
    })
  }

  private async written(n: number, send: () => Promise<unknown>): Promise<void> {
    try {
      await send()
    } catch (e) {
      throw e instanceof SluiceError ? e : new SluiceError('SLUICE_DLQ_WRITE_FAILED', `could not send ${n} dead letters to Kafka topic '${this.topic}': ${kafkaMessage(e)}`, { domain: 'external', retryable: true, cause: e })
    }
    this.appended += n
  }
}
