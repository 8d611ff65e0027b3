// Creating topics and waiting for them to be usable. kafkajs's `waitForLeaders` retries only
// LEADER_NOT_AVAILABLE; a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION for a moment after it has created
// a topic, and kafkajs gives up on that at once. Here both mean "not yet", and the wait is bounded.
import { setTimeout as sleep } from 'node:timers/promises'
import { isKafkaError, type KafkaClient } from './client.ts'

/** A topic to create if it does not exist. */
export interface TopicSpec {
  topic: string
  numPartitions?: number
  replicationFactor?: number
  configEntries?: { name: string; value: string }[]
}

const NOT_YET = ['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']

/**
 * Creates those of `topics` that do not exist (another client creating one first is fine), then waits until
 * every partition of every one has a leader, for up to `timeoutMs`.
 * @example await createTopics(client, [{ topic: 'orders', numPartitions: 3 }])
 */
export async function createTopics(client: KafkaClient, topics: readonly TopicSpec[], timeoutMs = 30_000): Promise<void> {
  const admin = client.admin()
  await admin.connect()
  try {
    const have = new Set(await admin.listTopics())
    const missing = topics.filter((t) => !have.has(t.topic))
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing.map((t) => ({ ...t })), waitForLeaders: false })
      } catch (e) {
        if (!alreadyExists(e)) throw e
      }
    }
    const deadline = Date.now() + timeoutMs
    for (let attempt = 0; ; attempt++) {
      let waiting: string
      try {
        waiting = notReady(await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) }), topics)
        if (waiting === '') return
      } catch (e) {
        if (!isKafkaError(e, ...NOT_YET)) throw e
        waiting = `the broker does not know ${topics.map((t) => `'${t.topic}'`).join(', ')} yet`
      }
      if (Date.now() >= deadline) throw new Error(`topics created but not ready after ${timeoutMs} ms: ${waiting}`)
      await sleep(Math.min(50 * (attempt + 1), 500))
    }
  } finally {
    await admin.disconnect()
  }
}

/** '' when every topic has its partitions, each with a leader; otherwise what is missing. */
function notReady(meta: { topics: { name: string; partitions: { partitionId: number; leader: number }[] }[] }, topics: readonly TopicSpec[]): string {
  for (const t of topics) {
    const m = meta.topics.find((x) => x.name === t.topic)
    if (m === undefined || m.partitions.length === 0) return `'${t.topic}' has no partitions yet`
    if (t.numPartitions !== undefined && m.partitions.length < t.numPartitions) return `'${t.topic}' has ${m.partitions.length} of ${t.numPartitions} partitions`
    const leaderless = m.partitions.find((p) => p.leader < 0)
    if (leaderless !== undefined) return `partition ${leaderless.partitionId} of '${t.topic}' has no leader`
  }
  return ''
}

function alreadyExists(e: unknown): boolean {
  if (isKafkaError(e, 'TOPIC_ALREADY_EXISTS')) return true
  const errors = (e as { errors?: unknown } | null)?.errors
  if (Array.isArray(errors) && errors.length > 0 && errors.every((x) => isKafkaError(x, 'TOPIC_ALREADY_EXISTS'))) return true
  return /already exists/i.test(e instanceof Error ? e.message : String(e))
}
