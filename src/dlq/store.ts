import type { Log, LogRecordInput } from '../log/index.ts'
import { deadLetterTopics, scanDeadLetters, type StoredDeadLetter } from './reader.ts'

/**
 * Where dead letters are kept, as `sluice dlq` and redrive read them: a topic of the embedded log, or a
 * Kafka topic (`kafkaLetterStore`). Letters live in partition 0 of their topic; a redrive remembers how
 * far it got as a consumer-group offset of the same store.
 * @example const n = (await Array.fromAsync(logLetterStore(log).scan('clicks.dlq'))).length
 */
export interface LetterStore {
  /** How redrive targets that are topics of this store are written (`log:` or `kafka:`), also part of their group names. */
  readonly scheme: 'log' | 'kafka'
  /** Topics that hold dead letters. */
  topics(): Promise<string[]>
  /** Every letter of `topic` from offset `from` on, in offset order, with whether readers may see it. Fails if the topic does not exist. */
  scan(topic: string, opts?: { from?: number }): AsyncIterable<StoredDeadLetter>
  /** The offset after the last letter of `topic`. */
  endOffset(topic: string): Promise<number>
  committedOffset(group: string, topic: string): Promise<number | undefined>
  commitOffset(group: string, topic: string, offset: number): Promise<void>
  /** Appends records (redriven lines) to another topic of the store, durably, creating it if needed. */
  append(topic: string, values: Buffer[]): Promise<void>
}

/**
 * The embedded log as a letter store.
 * @example await redriveFrom(logLetterStore(log), 'clicks.dlq', { kind: 'file', path: 'retry.jsonl' })
 */
export function logLetterStore(log: Log): LetterStore {
  return {
    scheme: 'log',
    topics: () => deadLetterTopics(log),
    scan: (topic, opts) => {
      log.topic(topic).partition(0)
      return scanDeadLetters(log, topic, opts)
    },
    endOffset: async (topic) => log.describe(topic).partitions[0].endOffset,
    committedOffset: async (group, topic) => log.committedOffset(group, topic, 0),
    commitOffset: (group, topic, offset) => log.commitOffset(group, topic, 0, offset),
    append: async (topic, values) => {
      await log.ensureTopic(topic)
      const records: LogRecordInput[] = values.map((value) => ({ value }))
      for (let i = 0; i < records.length; i += 1000) await log.append(topic, 0, records.slice(i, i + 1000))
    },
  }
}
