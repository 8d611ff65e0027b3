import { randomUUID } from 'node:crypto'

/**
 * One run of a Kafka-runner job, as the consumer group's leader assigned it: this worker is thread `index` of
 * `count`, and the run's messages in the exchange topic start at `offsets` (one per partition).
 */
export interface RunAssignment {
  /** Unique per assignment: messages of other runs are ignored. */
  run: string
  member: string
  index: number
  count: number
  offsets: number[]
}

/** What a worker tells the group when it joins: when it started (older workers get lower thread numbers). */
export interface MemberInfo {
  since: number
  pid: number
}

/**
 * The assignment of one rebalance: members ordered by start (then id), the first `max` of them threads 0..n-1;
 * the rest stand by (thread -1) until a rebalance gives them a place.
 */
export function assignRun(members: { memberId: string; info: MemberInfo }[], offsets: number[], max: number): RunAssignment[] {
  const run = randomUUID()
  const sorted = [...members].sort((a, b) => a.info.since - b.info.since || (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  const count = Math.min(sorted.length, max)
  return sorted.map((m, i) => ({ run, member: m.memberId, index: i < count ? i : -1, count, offsets }))
}
