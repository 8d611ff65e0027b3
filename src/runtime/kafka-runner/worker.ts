import { join } from 'node:path'
import type { Pipeline } from '../../api/pipeline.ts'
import { ObjectCheckpointStorage } from '../../checkpoint/object-storage.ts'
import { OwnStateFiles } from '../../checkpoint/own-state-files.ts'
import { OwnSavepointFiles } from '../../checkpoint/own-savepoint-files.ts'
import { isS3Url } from '../../checkpoint/s3-location.ts'
import { createClient, createCluster, type Cluster, type KafkaClient, type KafkaProducer } from '../../connectors/kafka/client.ts'
import { createTopics as createKafkaTopics } from '../../connectors/kafka/topics.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { runJob } from '../executor/job-runner.ts'
import { layOut } from '../executor/layout.ts'
import { loadPipeline, moduleUrl } from '../executor/load.ts'
import { serializeError } from '../executor/serialized-error.ts'
import { planSignature } from '../executor/signature.ts'
import { runThread } from '../executor/thread.ts'
import { ControlRequestChannel } from '../job/control-channel.ts'
import { createJob } from '../job/handle.ts'
import type { RunSummary } from '../run-types.ts'
import type { RunAssignment } from './assignment.ts'
import { KafkaExchange } from './exchange.ts'
import { runnerMarks, type RunnerMarks } from './marks.ts'
import { Membership } from './membership.ts'

/**
 * How `sluice worker --runner kafka` runs: the pipeline module, the cluster, the job's group (also the prefix of
 * its internal topics) and the checkpoint folder every worker shares.
 * @example await runKafkaWorker({ module: 'pipelines/clicks.ts', bootstrap: '127.0.0.1:9092', group: 'clicks', checkpointDir: '/shared/clicks' })
 */
export interface KafkaWorkerOptions {
  module: string
  params?: Record<string, string>
  bootstrap: string
  group: string
  /** A folder every worker reaches, or `s3://bucket/prefix`. */
  checkpointDir: string
  /** Time between checkpoints (default 10 s): what a failure makes the job read again. */
  checkpointIntervalMs?: number
  /** A worker silent this long is declared dead and the job restarts without it (default 10 s). */
  sessionTimeoutMs?: number
  /** Workers a run needs before it starts (default 1); with fewer, every worker waits for more to join. */
  minWorkers?: number
  /** Threads of one run at most: the exchange topic's partitions, fixed when the job's first worker creates it (default 16). */
  maxWorkers?: number
  /** Aborting makes this worker leave the job (the others go on without it). */
  signal?: AbortSignal
  /** One line per run this worker takes part in, and why a run ended. */
  log?: (line: string) => void
}

/** How a worker ended: the job finished (or stopped, or had already finished), or this worker left it. */
export interface KafkaWorkerOutcome {
  status: 'finished' | 'stopped' | 'left'
  /** Runs this worker took part in (1 without failures or joins). */
  runs: number
  /** The job's summary, on the worker that was thread 0 of the last run. */
  summary?: RunSummary
}

/** The exchange topic: partition t carries what the threads of a run send to thread t. */
export const exchangeTopic = (group: string): string => `${group}.sluice-exchange`
/** The topic the group's members subscribe to (empty: it only makes the group). */
export const membersTopic = (group: string): string => `${group}.sluice-members`

class Superseded extends Error {
  constructor() {
    super('the run was replaced by a new assignment')
  }
}

/**
 * Runs one worker of a Kafka-runner job until the job ends or the worker leaves: joins the job's consumer
 * group, and for every assignment the group makes runs its thread of the pipeline with the same executor as
 * `sluice run` (thread 0 also coordinates checkpoints), exchanging records, watermarks and barriers with the
 * other workers through the job's exchange topic. A rebalance (a worker joins, leaves or dies) ends the run on
 * every worker; the next run restores the last complete checkpoint at the new number of workers.
 * @example const outcome = await runKafkaWorker({ module: 'job.ts', bootstrap: '127.0.0.1:9092', group: 'clicks', checkpointDir: '/mnt/shared/clicks' })
 */
export async function runKafkaWorker(o: KafkaWorkerOptions): Promise<KafkaWorkerOutcome> {
  const params = o.params ?? {}
  const p = await loadPipeline(o.module, params)
  const marks = runnerMarks(o.checkpointDir)
  const before = await marks.ended().catch((e) => {
    marks.close()
    throw e
  })
  if (before !== undefined) {
    marks.close()
    return { status: before, runs: 0 }
  }
  const log = o.log ?? (() => {})
  const client = createClient({ brokers: o.bootstrap, clientId: `sluice-worker-${process.pid}` })
  const maxWorkers = o.maxWorkers ?? 16
  await createTopics(client, o.group, maxWorkers)
  const cluster = createCluster(client, 'read_uncommitted')
  await cluster.connect()
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  let latest: RunAssignment | undefined
  let current: { run: string; abort: AbortController } | undefined
  let wake: (() => void) | undefined
  let crashed: unknown
  const membership = new Membership({
    client,
    group: o.group,
    topic: membersTopic(o.group),
    maxThreads: maxWorkers,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    log,
    endOffsets: () => endOffsets(cluster, exchangeTopic(o.group), maxWorkers),
    onRun: (a) => {
      latest = a
      if (current !== undefined && current.run !== a.run) current.abort.abort(new Superseded())
      wake?.()
    },
    onCrash: (e) => {
      crashed = e
      current?.abort.abort(e)
      wake?.()
    },
  })
  const onLeave = (): void => {
    current?.abort.abort(new Superseded())
    wake?.()
  }
  o.signal?.addEventListener('abort', onLeave)
  let runs = 0
  try {
    await membership.join()
    for (;;) {
      const idle = (): boolean => latest === undefined && crashed === undefined && o.signal?.aborted !== true
      if (idle()) log('waiting for an assignment from the group')
      while (idle()) await new Promise<void>((r) => (wake = r))
      if (crashed !== undefined) throw crashed
      if (o.signal?.aborted === true) return { status: 'left', runs }
      const a = latest!
      latest = undefined
      const ended = await marks.ended()
      if (ended !== undefined) return { status: ended, runs }
      const abort = new AbortController()
      current = { run: a.run, abort }
      const tag = `run ${a.run.slice(0, 8)}`
      if (a.index < 0 || a.count < (o.minWorkers ?? 1)) {
        log(`${tag}: standing by (${a.count} worker(s); a run needs ${o.minWorkers ?? 1} to ${maxWorkers})`)
        while (!abort.signal.aborted) await new Promise<void>((r) => (wake = r))
        current = undefined
        continue
      }
      runs++
      log(`${tag}: thread ${a.index} of ${a.count}`)
      const step = (s: string): void => log(`${tag}: ${s}`)
      const exchange = new KafkaExchange({ cluster, producer, topic: exchangeTopic(o.group), run: a, onError: (e) => abort.abort(e) })
      exchange.start()
      // Giving a run up must end: what it still waits for is said every 15 s (a hang here stalls the job).
      let givingUp = ''
      const watch = setInterval(() => {
        if (givingUp !== '') log(`${tag}: still giving up the run (${givingUp})`)
      }, 15_000)
      watch.unref()
      const onSuperseded = (): void => {
        givingUp = 'waiting for its subtasks to end'
        step(`ended by a rebalance: giving it up`)
      }
      abort.signal.addEventListener('abort', onSuperseded)
      try {
        const summary = a.index === 0 ? await lead(p, o, params, a, exchange, abort.signal, step, marks) : await follow(p, o, params, a, exchange, abort.signal, step)
        await exchange.drain()
        if (a.index === 0) await marks.markEnded(summary!.status)
        return { status: summary?.status ?? (await marks.ended()) ?? 'finished', runs, ...(summary !== undefined ? { summary } : {}) }
      } catch (e) {
        if (!(abort.signal.reason instanceof Superseded)) throw e
      } finally {
        abort.signal.removeEventListener('abort', onSuperseded)
        if (givingUp !== '') givingUp = 'closing the exchange'
        await exchange.close()
        clearInterval(watch)
        if (givingUp !== '') step('given up')
        current = undefined
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onLeave)
    await membership.leave().catch(() => {})
    await producer.disconnect().catch(() => {})
    await cluster.disconnect().catch(() => {})
    marks.close()
  }
}

/** Thread 0: runs the job's coordinator and its own subtasks; resolves with the summary when the job ends. */
async function lead(p: Pipeline, o: KafkaWorkerOptions, params: Record<string, string>, a: RunAssignment, exchange: KafkaExchange, abandon: AbortSignal, step: (s: string) => void, marks: RunnerMarks): Promise<RunSummary> {
  const registry = new MetricsRegistry({ pipeline: p.name })
  const { handle, control } = createJob(p.name, registry)
  // Control requests (sluice stop, sluice savepoint) lie beside the checkpoints, in a folder or a bucket; a stop
  // is noted for every later run before it is answered.
  const channel = new ControlRequestChannel(handle, o.checkpointDir, { beforeStopAnswer: () => marks.markStopping() })
  const onAbandon = (): void => void handle.cancel().catch(() => {})
  abandon.addEventListener('abort', onAbandon)
  if (abandon.aborted) onAbandon()
  const ran = runJob(p, { parallelism: a.count, module: o.module, params, checkpoint: { dir: o.checkpointDir, intervalMs: o.checkpointIntervalMs ?? 10_000 } }, control, { ports: exchange.ports })
  // A stop outlives the run that took it: written down before the request is answered, taken up by every
  // later run (a rebalance during the stop would otherwise resume the job).
  if (a.count > 1) step(`waiting for threads 1 to ${a.count - 1} to be ready`)
  const off = handle.on((e) => {
    if (e.type === 'status') step(`job ${e.status}`)
    else if (e.type === 'restored') step(`restored checkpoint ${e.id}`)
    if (e.type === 'status' && e.status === 'stopping') {
      marks.markStopping().catch((err: unknown) => step(`the stop could not be noted beside the checkpoints: ${errorMessage(err)}`))
    }
  })
  if (await marks.stopping()) void handle.stop().catch(() => {})
  try {
    return await handle.done
  } finally {
    off()
    abandon.removeEventListener('abort', onAbandon)
    await ran
    await channel?.close()
  }
}

/**
 * Thread 1..n-1: runs its subtasks until thread 0 closes the run; a failure is reported to thread 0 first. With
 * checkpoints in a bucket, its subtasks' state files are staged, uploaded and kept on this machine (thread 0
 * may run on another).
 */
async function follow(p: Pipeline, o: KafkaWorkerOptions, params: Record<string, string>, a: RunAssignment, exchange: KafkaExchange, abandon: AbortSignal, step: (s: string) => void): Promise<undefined> {
  const plan = buildPlan(p)
  // Local copies beside the durable state when it has a folder, as thread 0 keeps them (job-runner.ts).
  const stateDir = p.options.state?.dir
  const own = isS3Url(o.checkpointDir) ? new OwnStateFiles(new ObjectCheckpointStorage(o.checkpointDir, {}, stateDir !== undefined ? join(stateDir, 'local') : undefined)) : undefined
  // A savepoint into a bucket: this thread uploads its own files there, wherever thread 0 runs.
  const savepoints = new OwnSavepointFiles()
  try {
    await runThread({ module: moduleUrl(o.module), params, thread: a.index, threads: a.count, signature: planSignature(plan), checkpointing: true, clock: undefined, spread: layOut(plan, a.count, true).spread }, exchange.ports, abandon, step, { ...(own !== undefined ? { checkpoints: own } : {}), savepoints })
    step('closed by thread 0')
  } catch (e) {
    if (!abandon.aborted) {
      exchange.ports[0]!.postMessage({ items: [{ t: 'fail', thread: a.index, error: serializeError(e) }], ack: 0, data: false })
      await exchange.drain()
    }
    throw e
  } finally {
    savepoints.clear()
    await own?.close()
  }
  return undefined
}

async function createTopics(client: KafkaClient, group: string, partitions: number): Promise<void> {
  const topics = [
    { topic: exchangeTopic(group), numPartitions: partitions, configEntries: [{ name: 'max.message.bytes', value: String(16 << 20) }, { name: 'retention.ms', value: String(24 * 3600_000) }] },
    { topic: membersTopic(group), numPartitions: 1 },
  ]
  try {
    await createKafkaTopics(client, topics)
  } catch (e) {
    throw new SluiceError('SLUICE_KAFKA_RUNNER_TOPICS', `the job's internal topics could not be created: ${errorMessage(e)}`, { domain: 'external', cause: e, hint: `the workers need to create topics '${exchangeTopic(group)}' and '${membersTopic(group)}', or find them created` })
  }
}

/**
 * The exchange topic's end offsets, as the group's leader lists them for a new run. On a fresh topic (or a broker
 * that just started) a partition's leader may not be known yet: the metadata is refreshed and the listing tried
 * again for a while, since a failing assignor makes kafkajs restart the whole membership.
 */
async function endOffsets(cluster: Cluster, topic: string, partitions: number): Promise<number[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cluster.addMultipleTargetTopics([topic])
      const parts = cluster.findTopicPartitionMetadata(topic)
      if (parts.length === 0 || parts.some((m) => m.leader < 0)) throw new Error(`not every partition of '${topic}' has a leader yet`)
      const byLeader = new Map<number, number[]>()
      for (const m of parts) byLeader.set(m.leader, [...(byLeader.get(m.leader) ?? []), m.partitionId])
      const out = new Array<number>(partitions).fill(0)
      for (const [leader, list] of byLeader) {
        const broker = await cluster.findBroker({ nodeId: leader })
        const res = await broker.listOffsets({ replicaId: -1, isolationLevel: 0, topics: [{ topic, partitions: list.map((partition) => ({ partition, timestamp: '-1' })) }] })
        for (const t of res.responses) for (const r of t.partitions) out[r.partition] = Number(r.offset)
      }
      return out
    } catch (e) {
      if (attempt >= ENDS_ATTEMPTS) throw e
      await new Promise((r) => setTimeout(r, 250))
      await cluster.refreshMetadata().catch(() => undefined)
    }
  }
}
/** Tries at listing the exchange's end offsets (about 250 ms apart) before the assignment fails. */
const ENDS_ATTEMPTS = 40

/** A worker's options that cannot work. */
export function checkWorkerOptions(o: KafkaWorkerOptions): void {
  if (o.group === '' || /[^a-zA-Z0-9._-]/.test(o.group)) throw userError('SLUICE_BAD_OPTION', `--group '${o.group}' is not a valid Kafka group and topic prefix`, { hint: 'use letters, digits, dots, dashes and underscores' })
}
