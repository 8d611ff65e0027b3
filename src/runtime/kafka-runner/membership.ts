import kafkajs from 'kafkajs'
import type { Cluster, KafkaClient } from '../../connectors/kafka/client.ts'
import { errorMessage } from '../../core/errors.ts'
import { assignRun, type MemberInfo, type RunAssignment } from './assignment.ts'

interface Protocol {
  encode(x: { version: number; topics?: string[]; assignment?: Record<string, number[]>; userData?: Buffer }): Buffer
  decode(b: Buffer): { version: number; topics?: string[]; assignment?: Record<string, number[]>; userData?: Buffer } | null
}
const { AssignerProtocol } = kafkajs as unknown as { AssignerProtocol: { MemberMetadata: Protocol; MemberAssignment: Protocol } }

interface Consumer {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(req: { topics: string[]; fromBeginning?: boolean }): Promise<void>
  run(req: { autoCommit: boolean; eachBatch: () => Promise<void> }): Promise<void>
  on(event: string, f: (e: { payload: Record<string, unknown> }) => void): () => void
  events: { GROUP_JOIN: string; CRASH: string; REBALANCING: string }
}

const NAME = 'SluiceRunner'
/** The runs this process was assigned, by member id: kafkajs decodes an assignment's user data and drops it. */
const assigned = new Map<string, RunAssignment>()
const patched = Symbol.for('sluice.kafka-runner.assignment')
{
  const MA = AssignerProtocol.MemberAssignment as Protocol & { [patched]?: true }
  if (MA[patched] !== true) {
    const decode = MA.decode.bind(MA)
    MA.decode = (b) => {
      const r = decode(b)
      const data = r?.userData
      if (data !== undefined && data.length > 0 && data[0] === 0x7b) {
        try {
          const a = JSON.parse(data.toString('utf8')) as RunAssignment
          if (typeof a.run === 'string' && typeof a.member === 'string') assigned.set(a.member, a)
        } catch {
          // not ours
        }
      }
      return r
    }
    MA[patched] = true
  }
}

export interface MembershipOptions {
  client: KafkaClient
  /** Lists the exchange topic's end offsets (the leader, when it assigns a run). */
  endOffsets(): Promise<number[]>
  group: string
  /** A topic of one partition that the group's members subscribe to (nothing is written to it). */
  topic: string
  /** Threads a run has at most (the exchange topic's partitions). */
  maxThreads: number
  sessionTimeoutMs: number
  onRun(a: RunAssignment): void
  /** The membership failed for good (kafkajs gave up and will not rejoin). */
  onCrash(e: unknown): void
  /** One line per step of the membership (joined, assigned, rebalancing, rejoining after an error). */
  log?(line: string): void
}

/**
 * This worker's membership of the job's consumer group. Every rebalance (a worker that joins, leaves or is
 * declared dead after the session timeout) gives every member a new run: the leader's assignor numbers the
 * members (oldest first) and lists where the run's messages start in the exchange topic.
 */
export class Membership {
  private consumer: Consumer | undefined
  private readonly o: MembershipOptions
  private readonly since = Date.now()

  constructor(o: MembershipOptions) {
    this.o = o
  }

  async join(): Promise<void> {
    const o = this.o
    const info: MemberInfo = { since: this.since, pid: process.pid }
    const log = o.log ?? (() => {})
    const assigner = (_: { cluster: Cluster }) => ({
      name: NAME,
      version: 1,
      protocol: ({ topics }: { topics: string[] }) => ({ name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(info)) }) }),
      assign: async ({ members }: { members: { memberId: string; memberMetadata: Buffer }[] }) => {
        log(`leader: listing the exchange's end offsets for ${members.length} member(s)`)
        let offsets: number[]
        try {
          offsets = await o.endOffsets()
        } catch (e) {
          // Marked retriable (and without a cause, which kafkajs would judge instead) so that kafkajs restarts
          // the membership rather than giving it up: the next rebalance tries again.
          log(`leader: the run could not be assigned (${errorMessage(e)})`)
          throw Object.assign(new Error(`the run could not be assigned: ${errorMessage(e)}`), { retriable: true })
        }
        const list = members.map((m) => ({ memberId: m.memberId, info: JSON.parse(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData?.toString('utf8') || '{"since":0,"pid":0}') as MemberInfo }))
        const runs = assignRun(list, offsets, o.maxThreads)
        log(`leader: assigned run ${runs[0]?.run.slice(0, 8)} to ${runs.length} member(s) (pids ${list.map((m) => m.info.pid).join(', ')})`)
        return runs.map((a) => ({
          memberId: a.member,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: a.index === 0 ? { [o.topic]: [0] } : {}, userData: Buffer.from(JSON.stringify(a)) }),
        }))
      },
    })
    const consumer = (o.client as unknown as { consumer(c: Record<string, unknown>): Consumer }).consumer({
      groupId: o.group,
      partitionAssigners: [assigner],
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
      rebalanceTimeout: Math.max(30_000, o.sessionTimeoutMs * 3),
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
    })
    this.consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const member = String(e.payload.memberId)
      const a = assigned.get(member)
      assigned.delete(member)
      log(`joined the group as ${member.slice(-8)}${e.payload.isLeader === true ? ' (leader)' : ''} in ${Number(e.payload.duration)} ms: ${a === undefined ? 'no run in the assignment' : `run ${a.run.slice(0, 8)}`}`)
      if (a !== undefined) o.onRun(a)
    })
    consumer.on(consumer.events.REBALANCING, () => log('the group is rebalancing: rejoining'))
    // kafkajs restarts the consumer by itself after a retriable failure (a new member: the group rebalances
    // and assigns a new run); only a failure it does not restart from ends the membership.
    consumer.on(consumer.events.CRASH, (e) => {
      log(`the group membership failed (${errorMessage(e.payload.error)}): ${e.payload.restart === true ? 'rejoining' : 'giving up'}`)
      if (e.payload.restart !== true) o.onCrash(e.payload.error)
    })
    log(`joining group '${o.group}'`)
    await consumer.connect()
    await consumer.subscribe({ topics: [o.topic] })
    await consumer.run({ autoCommit: false, eachBatch: async () => {} })
  }

  /** Leaves the group (the others rebalance at once, without waiting for the session timeout). */
  async leave(): Promise<void> {
    await this.consumer?.disconnect()
    this.consumer = undefined
  }
}
