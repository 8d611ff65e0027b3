import kafkajs from 'kafkajs'
import type { Cluster, KafkaClient } from '../../connectors/kafka/client.ts'
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
  events: { GROUP_JOIN: string; CRASH: string }
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
  onCrash(e: unknown): void
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
    const assigner = (_: { cluster: Cluster }) => ({
      name: NAME,
      version: 1,
      protocol: ({ topics }: { topics: string[] }) => ({ name: NAME, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify(info)) }) }),
      assign: async ({ members }: { members: { memberId: string; memberMetadata: Buffer }[] }) => {
        const offsets = await o.endOffsets()
        const list = members.map((m) => ({ memberId: m.memberId, info: JSON.parse(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData?.toString('utf8') || '{"since":0,"pid":0}') as MemberInfo }))
        return assignRun(list, offsets, o.maxThreads).map((a) => ({
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
      const a = assigned.get(String(e.payload.memberId))
      if (a !== undefined) o.onRun(a)
    })
    consumer.on(consumer.events.CRASH, (e) => o.onCrash(e.payload.error))
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
