import { SluiceError } from '../../core/errors.ts'
import type { AbortScope, Transactions } from '../../checkpoint/two-phase-commit.ts'
import { defaultPartitioner, kafkaMessage, producerIdentities, TRANSACTION_COORDINATOR, type Cluster, type KafkaClient, type KafkaProducer, type KafkaTransaction, type ProducerMessage } from './client.ts'
import { groupOffsets } from './groups.ts'
import { retryTransient } from './retry.ts'

/** One transaction of the sink as the checkpoint stores it: enough to commit it from another process. */
export interface KafkaSinkTxn {
  /** Its transactional id, `<prefix>-<subtask>-<slot>`; also the group that holds its marker. */
  tid: string
  producerId: string
  producerEpoch: number
  /** The marker committed inside it: the group `tid` has offset ≥ mark on partition 0 of the topic once it committed. */
  mark: number
}

/** Transactional ids a writer uses in turn; more than this many checkpoints pending at once is an error. */
export const SLOTS = 4
/** On recovery a writer fences the ids of old subtasks up to at least this many (a run that crashed before its first checkpoint). */
export const FENCE_SUBTASKS = 8

interface Slot {
  tid: string
  producer: KafkaProducer | undefined
  txn: KafkaTransaction | undefined
  state: 'free' | 'open' | 'pending'
  mark: number
}

export interface KafkaTransactionsConfig {
  topic: string
  prefix: string
  subtask: number
  parallelism: number
  transactionTimeout: number
  step: string
  /** Sends what the writer buffered and waits for every send (before a transaction is prepared). */
  flush(): Promise<void>
}

/**
 * Kafka transactions as the two-phase commit's primitives (`Transactions`). The records between two
 * barriers go into one transaction of a slot's transactional id. `preCommit` adds a marker to it (an
 * offset commit of the group named after the id, offset = a number that grows per id) and returns the
 * producer id and epoch; `commit` ends it, or, in a process that did not open it, checks the marker and
 * ends it by EndTxn with that id and epoch; `abort` fences every id the inherited subtasks may have left
 * open (InitProducerId aborts a transaction in progress).
 */
export class KafkaTransactions implements Transactions<KafkaSinkTxn> {
  private readonly client: KafkaClient
  private readonly cluster: Cluster
  private readonly cfg: KafkaTransactionsConfig
  private readonly slots: Slot[] = []
  private current: Slot | undefined
  private nextMark = 1

  constructor(client: KafkaClient, cluster: Cluster, cfg: KafkaTransactionsConfig) {
    this.client = client
    this.cluster = cluster
    this.cfg = cfg
  }

  private tid(subtask: number, slot: number): string {
    return `${this.cfg.prefix}-${subtask}-${slot}`
  }

  /** Sends in the open transaction, opening one in a free slot first. */
  async send(messages: ProducerMessage[]): Promise<void> {
    const slot = this.current ?? (await this.open())
    await slot.txn!.send({ topic: this.cfg.topic, messages })
  }

  private async open(): Promise<Slot> {
    let slot = this.slots.find((s) => s.state === 'free')
    if (slot === undefined) {
      if (this.slots.length >= SLOTS) {
        throw new SluiceError('SLUICE_SINK_FAILED', `sink.kafka: ${SLOTS} transactions wait for their checkpoints to complete`, {
          domain: 'external',
          step: this.cfg.step,
          hint: 'checkpoints are not completing: look for the checkpoint failure before this one',
        })
      }
      slot = { tid: this.tid(this.cfg.subtask, this.slots.length), producer: undefined, txn: undefined, state: 'free', mark: 0 }
      this.slots.push(slot)
    }
    if (slot.producer === undefined) {
      slot.producer = this.client.producer({
        transactionalId: slot.tid,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.cfg.transactionTimeout,
        createPartitioner: defaultPartitioner,
        allowAutoTopicCreation: false,
      })
      await slot.producer.connect()
    }
    slot.txn = await slot.producer.transaction()
    slot.state = 'open'
    this.current = slot
    return slot
  }

  async preCommit(): Promise<KafkaSinkTxn | undefined> {
    await this.cfg.flush()
    const slot = this.current
    if (slot === undefined) return undefined
    const mark = this.nextMark++
    await slot.txn!.sendOffsets({ consumerGroupId: slot.tid, topics: [{ topic: this.cfg.topic, partitions: [{ partition: 0, offset: String(mark) }] }] })
    const id = producerIdentities.get(slot.tid)
    if (id === undefined) throw new SluiceError('SLUICE_INTERNAL', `sink.kafka: no producer id known for '${slot.tid}'`, { domain: 'internal', step: this.cfg.step })
    slot.state = 'pending'
    slot.mark = mark
    this.current = undefined
    return { tid: slot.tid, producerId: id.producerId, producerEpoch: id.producerEpoch, mark }
  }

  async commit(t: KafkaSinkTxn): Promise<void> {
    const slot = this.slots.find((s) => s.tid === t.tid && s.state === 'pending' && s.mark === t.mark)
    if (slot !== undefined) {
      try {
        await slot.txn!.commit()
      } catch (e) {
        throw this.lost(t, e)
      }
      slot.state = 'free'
      slot.txn = undefined
      return
    }
    await this.resume(t)
  }

  /** Commits a transaction another process prepared, unless its marker says it is committed already. */
  private async resume(t: KafkaSinkTxn): Promise<void> {
    if ((await this.markerOf(t.tid)) >= t.mark) return
    try {
      await retryTransient(async () => {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: t.tid, coordinatorType: TRANSACTION_COORDINATOR })
        await coordinator.endTxn({ transactionalId: t.tid, producerId: t.producerId, producerEpoch: t.producerEpoch, transactionResult: true })
      })
    } catch (e) {
      // Committed meanwhile (its markers were still being written when we looked)?
      if ((await this.markerOf(t.tid)) >= t.mark) return
      throw this.lost(t, e)
    }
  }

  private lost(t: KafkaSinkTxn, e: unknown): SluiceError {
    return new SluiceError('SLUICE_KAFKA_TRANSACTION_LOST', `sink.kafka: the broker no longer holds transaction '${t.tid}' of a completed checkpoint, so its records cannot be committed: ${kafkaMessage(e)}`, {
      domain: 'external',
      step: this.cfg.step,
      cause: e,
      hint: "the transaction outlived transactionTimeout (or the broker's transaction.max.timeout.ms): make checkpoints complete well within it, then restore from the previous checkpoint",
    })
  }

  /** The marker the group `tid` holds: the `mark` of its last committed transaction, or -1. */
  private async markerOf(tid: string): Promise<number> {
    const key = { topic: this.cfg.topic, partition: 0 }
    return (await groupOffsets(this.cluster, tid, [key])).get(key) ?? -1
  }

  /**
   * On restart, after the inherited transactions are committed: fences every transactional id the inherited
   * subtasks (and, for a run that crashed before its first checkpoint, any subtask up to FENCE_SUBTASKS) may
   * have left open, then continues this writer's markers above the ones its ids hold.
   */
  async abort(scope: AbortScope): Promise<void> {
    const { subtask, parallelism } = this.cfg
    const limit = Math.max(parallelism, FENCE_SUBTASKS, ...scope.subtasks.map((j) => j + 1))
    const tids: string[] = []
    for (let j = subtask; j < limit; j += parallelism) if (scope.owns(j)) for (let s = 0; s < SLOTS; s++) tids.push(this.tid(j, s))
    await Promise.all(tids.map((tid) => this.fence(tid)))
    const marks = await Promise.all(Array.from({ length: SLOTS }, (_, s) => this.markerOf(this.tid(subtask, s))))
    this.nextMark = Math.max(0, ...marks) + 1
  }

  private async fence(tid: string): Promise<void> {
    try {
      await retryTransient(async () => {
        const coordinator = await this.cluster.findGroupCoordinator({ groupId: tid, coordinatorType: TRANSACTION_COORDINATOR })
        await coordinator.initProducerId({ transactionalId: tid, transactionTimeout: this.cfg.transactionTimeout })
      })
    } catch (e) {
      throw new SluiceError('SLUICE_SINK_FAILED', `sink.kafka: cannot fence transactional id '${tid}': ${kafkaMessage(e)}`, { domain: 'external', step: this.cfg.step, cause: e, retryable: true })
    }
  }

  check(txn: unknown): KafkaSinkTxn {
    const t = txn as KafkaSinkTxn | null
    const ok = typeof t === 'object' && t !== null && typeof t.tid === 'string' && typeof t.producerId === 'string' && Number.isInteger(t.producerEpoch) && Number.isSafeInteger(t.mark)
    if (!ok) throw new SluiceError('SLUICE_BAD_POSITION', 'sink.kafka: a transaction in the checkpoint handle must be { tid, producerId, producerEpoch, mark }', { domain: 'internal', step: this.cfg.step })
    return t
  }

  /** Aborts the open transaction (records after the last checkpoint) and lets the producers go; prepared ones stay for a restore. */
  async close(): Promise<void> {
    const open = this.current
    this.current = undefined
    if (open?.txn !== undefined) await open.txn.abort().catch(() => undefined)
    await Promise.all(this.slots.map((s) => s.producer?.disconnect().catch(() => undefined)))
  }
}
