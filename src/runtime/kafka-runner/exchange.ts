import { deserialize, serialize } from 'node:v8'
import type { Cluster, KafkaProducer, ProducerMessage } from '../../connectors/kafka/client.ts'
import { isKafkaError } from '../../connectors/kafka/client.ts'
import type { WireBundle } from '../executor/protocol.ts'
import type { ExchangePort } from '../executor/router.ts'
import type { RunAssignment } from './assignment.ts'

/** Bytes of bundles sent in one produce request at most (the topic accepts messages up to 16 MiB). */
const SEND_BYTES = 4 << 20
/** How long a fetch waits on the broker when nothing is new, in ms (bounds how long `close` takes). */
const POLL_MS = 100

/** One message of the exchange topic: a bundle of thread `from` of run `run`. */
interface Envelope {
  run: string
  from: number
  w: WireBundle
}

/**
 * The channels between the threads of one run of a Kafka-runner job, over the job's exchange topic: thread t
 * reads partition t, and every other thread appends the bundles it sends to t there, in the order it sends them
 * (one producer per process, one request at a time). Messages of other runs (older ones, or a worker that has
 * not yet noticed that its run was replaced) are skipped; reading starts at the end offsets the group's leader
 * listed when it made this run's assignment, before anyone could send in it.
 */
export class KafkaExchange {
  readonly ports: (ExchangePort | undefined)[]
  private readonly listeners: (((w: WireBundle) => void) | undefined)[]
  private readonly queue: { msg: ProducerMessage; bytes: number }[] = []
  private sending: Promise<void> | undefined
  private closed = false
  private reading: Promise<void> | undefined
  private readonly cluster: Cluster
  private readonly producer: KafkaProducer
  private readonly topic: string
  private readonly run: RunAssignment
  private readonly onError: (e: unknown) => void

  constructor(opts: { cluster: Cluster; producer: KafkaProducer; topic: string; run: RunAssignment; onError(e: unknown): void }) {
    this.cluster = opts.cluster
    this.producer = opts.producer
    this.topic = opts.topic
    this.run = opts.run
    this.onError = opts.onError
    const n = opts.run.count
    this.listeners = new Array(n).fill(undefined)
    this.ports = Array.from({ length: n }, (_, t) => (t === opts.run.index ? undefined : this.port(t)))
  }

  private port(to: number): ExchangePort {
    return {
      postMessage: (w) => this.post(to, w),
      on: (_event, f) => (this.listeners[to] = f),
      close: () => {},
    }
  }

  /** Starts reading this thread's partition. */
  start(): void {
    this.reading = this.read().catch((e) => {
      if (!this.closed) this.onError(e)
    })
  }

  private post(to: number, w: WireBundle): void {
    if (this.closed) return
    const value = serialize({ run: this.run.run, from: this.run.index, w } satisfies Envelope)
    this.queue.push({ msg: { partition: to, value }, bytes: value.length })
    this.sending ??= this.send().finally(() => (this.sending = undefined))
  }

  /** Sends what is queued, one request at a time, so that a receiver sees the bundles in the order they were posted. */
  private async send(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      let bytes = 0
      let n = 0
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n].bytes <= SEND_BYTES)) bytes += this.queue[n++].bytes
      const messages = this.queue.splice(0, n).map((x) => x.msg)
      try {
        await this.producer.send({ topic: this.topic, messages, acks: -1 })
      } catch (e) {
        if (!this.closed) this.onError(e)
        return
      }
    }
  }

  private async read(): Promise<void> {
    const { cluster, topic } = this
    const partition = this.run.index
    let at = this.run.offsets[partition] ?? 0
    await cluster.addMultipleTargetTopics([topic])
    while (!this.closed) {
      const leader = cluster.findTopicPartitionMetadata(topic).find((m) => m.partitionId === partition)?.leader ?? -1
      let res
      try {
        const broker = await cluster.findBroker({ nodeId: leader })
        res = await broker.fetch({ replicaId: -1, isolationLevel: 0, maxWaitTime: POLL_MS, minBytes: 1, maxBytes: 64 << 20, topics: [{ topic, partitions: [{ partition, fetchOffset: String(at), maxBytes: 32 << 20 }] }] })
      } catch (e) {
        if (this.closed) return
        if ((e as { retriable?: boolean }).retriable === true || isKafkaError(e, 'NOT_LEADER_FOR_PARTITION') || (e as { name?: string }).name === 'KafkaJSConnectionError') {
          await cluster.refreshMetadata().catch(() => undefined)
          continue
        }
        throw e
      }
      for (const t of res.responses) {
        for (const fp of t.partitions) {
          for (const m of fp.messages) {
            const offset = Number(m.offset)
            if (offset < at || m.isControlRecord || m.value === null) continue
            at = offset + 1
            if (this.closed) return
            const env = deserialize(m.value) as Envelope
            if (env.run === this.run.run) this.listeners[env.from]?.(env.w)
          }
        }
      }
    }
  }

  /** Waits until everything posted so far has been sent (at the run's normal end: the last reports go out). */
  async drain(): Promise<void> {
    while (this.sending !== undefined) await this.sending
  }

  /** Stops reading and sending (what is still queued is dropped: the run is over). */
  async close(): Promise<void> {
    this.closed = true
    this.queue.length = 0
    await Promise.allSettled([this.reading, this.sending])
  }
}
