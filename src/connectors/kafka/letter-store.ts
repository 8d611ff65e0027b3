import { SluiceError } from '../../core/errors.ts'
import { END } from '../../core/source.ts'
import { CHECKPOINT_HEADER } from '../../dlq/commits.ts'
import type { StoredDeadLetter } from '../../dlq/reader.ts'
import type { DeadLetter } from '../../dlq/record.ts'
import type { LetterStore } from '../../dlq/store.ts'
import { createClient, createCluster, isKafkaError, kafkaMessage, type Cluster, type KafkaConnection } from './client.ts'
import { commitGroupOffsets, groupOffsets } from './groups.ts'
import { createTopics } from './topics.ts'
import { kafka as kafkaSource, type KafkaRecord } from './source.ts'

/** A letter store that can be let go of (its connections closed). */
export interface ClosableLetterStore extends LetterStore {
  close(): Promise<void>
}

/**
 * Dead letters in Kafka topics as `sluice dlq` and redrive read them: partition 0 of a topic, read with
 * read_committed, so only letters of committed transactions (completed checkpoints) are seen; a redrive's
 * position is an offset of a consumer group (committed as admin tools do, without members). Topics named
 * `*.dlq` count as dead-letter topics.
 * @example
 * const store = kafkaLetterStore({ brokers: 'localhost:9092' })
 * for await (const s of store.scan('clicks.dlq')) console.log(s.offset, s.letter.reason)
 * await store.close()
 */
export function kafkaLetterStore(c: KafkaConnection): ClosableLetterStore {
  const client = createClient(c)
  let cluster: Promise<Cluster> | undefined
  const connected = (): Promise<Cluster> =>
    (cluster ??= (async () => {
      const k = createCluster(client)
      try {
        await k.connect()
      } catch (e) {
        throw new SluiceError('SLUICE_DLQ_UNREACHABLE', `cannot reach the Kafka brokers: ${kafkaMessage(e)}`, { domain: 'external', retryable: true, cause: e, hint: 'check the kafka://host:port address and that Kafka runs' })
      }
      return k
    })())
  const part = (topic: string) => [{ topic, partition: 0 }]
  return {
    scheme: 'kafka',
    async topics() {
      const admin = client.admin()
      await admin.connect()
      try {
        return (await admin.listTopics()).filter((t) => t.endsWith('.dlq')).sort()
      } finally {
        await admin.disconnect()
      }
    },
    scan: (topic, opts = {}) => scan(c, topic, opts.from ?? 0),
    async endOffset(topic) {
      const k = await connected()
      await targetTopic(k, topic)
      const leader = k.findTopicPartitionMetadata(topic).find((m) => m.partitionId === 0)!.leader
      const res = await (await k.findBroker({ nodeId: leader })).listOffsets({ replicaId: -1, isolationLevel: 1, topics: [{ topic, partitions: [{ partition: 0, timestamp: '-1' }] }] })
      return Number(res.responses[0].partitions[0].offset)
    },
    committedOffset: async (group, topic) => [...(await groupOffsets(await connected(), group, part(topic))).values()][0],
    commitOffset: async (group, topic, offset) => commitGroupOffsets(await connected(), group, [{ topic, partition: 0, offset }]),
    async append(topic, values) {
      await createTopics(client, [{ topic, numPartitions: 1 }])
      const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
      await producer.connect()
      try {
        for (let i = 0; i < values.length; i += 1000) await producer.send({ topic, acks: -1, messages: values.slice(i, i + 1000).map((value) => ({ value })) })
      } catch (e) {
        throw new SluiceError('SLUICE_DLQ_REDRIVE_FAILED', `could not write to Kafka topic '${topic}': ${kafkaMessage(e)}`, { domain: 'external', cause: e, retryable: true })
      } finally {
        await producer.disconnect().catch(() => undefined)
      }
    },
    async close() {
      if (cluster !== undefined) await (await cluster.catch(() => undefined))?.disconnect().catch(() => undefined)
    },
  }
}

async function targetTopic(k: Cluster, topic: string): Promise<void> {
  try {
    await k.addMultipleTargetTopics([topic])
  } catch (e) {
    if (isKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new SluiceError('SLUICE_BAD_OPTION', `Kafka topic '${topic}' does not exist`, { domain: 'user', cause: e })
    throw e
  }
}

/** The committed letters of partition 0 of `topic` from offset `from` to its last stable offset now, through source.kafka. */
async function* scan(c: KafkaConnection, topic: string, from: number): AsyncGenerator<StoredDeadLetter> {
  const reader = await kafkaSource<KafkaRecord<string>>({ ...c, topics: topic, stopAtEnd: true, metadata: true, format: 'string', pollInterval: '50ms' }).open({
    pipeline: 'sluice-dlq',
    stepId: 'dead-letters',
    signal: new AbortController().signal,
    malformed: () => undefined,
  })
  try {
    await reader.seek!(Array.from({ length: reader.partitions }, (_, i) => (i === 0 ? from : 0)))
    for (;;) {
      const r = await reader.read(0, 1000)
      if (r === END) return
      if (r === null) continue
      for (const rec of r.values) {
        let letter: DeadLetter
        try {
          letter = JSON.parse(rec.value) as DeadLetter
        } catch {
          throw new SluiceError('SLUICE_DLQ_CORRUPT', `Kafka topic '${topic}' partition 0 offset ${rec.offset} is not a dead letter (not JSON)`, { domain: 'user', hint: 'is this a dead-letter topic?' })
        }
        yield { partition: 0, offset: rec.offset, checkpoint: rec.headers[CHECKPOINT_HEADER], visibility: 'visible', letter }
      }
    }
  } finally {
    await reader.close()
  }
}
