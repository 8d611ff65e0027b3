import { checkCombine, type CombineOption } from './combine-option.ts'
import { parseDuration, type Duration } from '../core/duration.ts'
import type { ErrorPolicy, ErrorRecord } from '../core/operator.ts'
import type { Source } from '../core/source.ts'
import { userError } from '../core/errors.ts'
import { checkCacheOptions, type StateOptions } from '../core/state-options.ts'
import { parseByteSize } from '../core/byte-size.ts'
import { resolveRetries, type RetryOptions } from '../dlq/retry.ts'
import { sloTargets, type SloSpec } from '../observe/slo/spec.ts'
import type { Edge, StepImpl, StepNode } from '../plan/graph.ts'
import type { KeyProvider } from '../privacy/keys/key-provider.ts'
import type { KafkaConnection } from '../connectors/kafka/client.ts'
import { Stream } from './stream.ts'

/**
 * Options of a whole pipeline: the error policy for bad records, retries of transient failures, where
 * dead letters and keyed state go, and the batch size read from sources.
 * @example pipeline('orders', { onError: 'dead-letter', retries: { attempts: 3 }, batchSize: 512 })
 */
export interface PipelineOptions {
  /**
   * What happens when a user function throws or an input line is malformed. Default 'fail'.
   * 'dead-letter' writes the record with the reason, step and position to `deadLetter`'s log topic.
   */
  onError?: ErrorPolicy
  /** Records per batch read from sources. Default 1024. */
  batchSize?: number
  /**
   * The longest a record waits in a source for its batch to be handed on (Flink's buffer timeout): a
   * rate-limited generator releases batches of at most this much of its rate, the log source and followed
   * files look for new records at least this often (a shorter `pollInterval` stands). Records crossing threads never wait: a thread posts what it has after every
   * batch. Default '10ms', which keeps a stateless pipeline's p99 end-to-end latency under 50 ms from 1k to 100k
   * records/s (bench/latency).
   */
  bufferTimeout?: number | string
  /** Where `onError: 'dead-letter'` writes: an embedded log folder and topic (default topic `<pipeline>.dlq`). */
  deadLetter?: DeadLetterOptions
  /**
   * Retries of a user function that failed with a transient error (TransientError, `transient: true`, a
   * retryable SluiceError) before the error policy applies; backoff doubles from `backoff` up to
   * `maxBackoff` and blocks the thread (backpressure). Default { attempts: 3, backoff: '10ms', maxBackoff: '1s' };
   * false turns retries off.
   */
  retries?: RetryOptions | false
  /**
   * Where keyed state of every stateful step lives (and its timers): 'heap' (default, fastest, within
   * `memoryBudget`) or 'durable' (an embedded LMDB store with a write-back cache, for state larger than
   * memory; `dir` is its working folder, default a temporary one). See StateOptions.
   */
  state?: StateOptions
  /**
   * Service level objectives (freshness, latency, completeness, errors): `sluice slo rules` turns them into
   * Prometheus recording rules and burn-rate alerts, `sluice slo dashboard` into a Grafana dashboard.
   */
  slo?: SloSpec
  /**
   * How long a sink's write (or a dead-letter append) may stay unsettled before the job fails with
   * SLUICE_SINK_TIMEOUT naming the sink. Default '5m'. After 5 s the progress line says which sink is stuck;
   * a stop waits at most `stopTimeout` for it.
   */
  sinkWriteTimeout?: number | string
  /** How long a stop (Ctrl-C, SIGTERM, a savepoint with stop) waits for a stuck sink write before failing. Default '30s'. */
  stopTimeout?: number | string
  /**
   * Where every run emits its OpenLineage events: a file (NDJSON), an `http://` Marquez endpoint or 'console',
   * with the job's namespace and owners. `sluice run --lineage` and `run(p, { lineage })` take precedence.
   */
  lineage?: string | { transport: string; namespace?: string; owner?: string | readonly string[] }
  /**
   * A schema registry (an embedded registry's folder, or the URL of one that speaks the Confluent API): before
   * it starts, a run registers each new compatible version of its sources' and sinks' contracts there and
   * refuses to start on an incompatible one (SLUICE_CONTRACT_INCOMPATIBLE, with the breaking differences).
   * `run(p, { registry })`, `sluice run --registry` and `SLUICE_REGISTRY` work too.
   */
  registry?: string
  /**
   * Local pre-aggregation before the keyed exchange, the default of every keyed aggregate's and event-time
   * window's own `combine` option (which still decides for its step). 'auto' (the default): a combiner in front
   * of each whose aggregate merges exactly, folding records per batch and key at parallelism > 1 and handing them
   * on untouched at parallelism 1 or when keys rarely repeat in a batch; `true`: one in front of every step that
   * can have one, always folding; `false`: none. The results are the same.
   */
  combine?: CombineOption
}

/** The default of `PipelineOptions.bufferTimeout`. */
const DEFAULT_BUFFER_TIMEOUT = '10ms'

export interface DeadLetterOptions {
  /** The embedded log folder. */
  dir?: string
  /** Log topic (or Kafka topic with `kafka`); default `<pipeline>.dlq`. */
  topic?: string
  /**
   * Write the letters to a topic of this Kafka cluster instead of the embedded log: exactly once with
   * checkpoints (Kafka transactions tied to them, read them with read_committed), by an idempotent
   * producer without. The topic is created (one partition) if it does not exist.
   * @example pipeline('orders', { onError: 'dead-letter', deadLetter: { kafka: { brokers: 'localhost:9092' }, topic: 'orders.dlq' } })
   */
  kafka?: KafkaConnection & {
    /** Prefix of the writer's transactional ids (default `sluice-<pipeline>-dlq`); unique per job. */
    transactionalIdPrefix?: string
    /** How long the broker keeps a transaction open, ms (default 900000). */
    transactionTimeout?: number
  }
  /**
   * How long the embedded log keeps dead letters: old segments go once their newest letter is older than
   * `maxAge`, or while the topic holds more than `maxBytes`, enforced by the log every 5 minutes while the job
   * runs (`sluice retention` applies it to a log no job holds). A Kafka topic keeps its own retention.
   * @example pipeline('orders', { onError: 'dead-letter', deadLetter: { dir: 'state/dlq', retention: { maxAge: '30d' } } })
   */
  retention?: { maxAge?: Duration; maxBytes?: number }
  /** Keep error stacks in dead letters (default false). */
  includeStack?: boolean
  /**
   * Keys that encrypt, in dead letters, the fields the sources' contracts tag personal (a raw line that is not
   * JSON is encrypted whole), so they are never at rest in clear text; `privacy.decrypt({ keys })` reads them back.
   */
  personalKeys?: KeyProvider
}

/**
 * A named dataflow: sources, steps and sinks. Build it with `pipeline(name).from(source)`; run it with
 * `sluice run <file>` (default export) or `run(pipeline)`.
 * @example const p: Pipeline = pipeline('orders', { onError: 'dead-letter' })
 */
export class Pipeline {
  /**
   * The name given to `pipeline(name)`: in summaries, metrics, checkpoints and dead letters.
   * @example pipeline('orders').name // 'orders'
   */
  readonly name: string
  /**
   * The options in force, defaults filled in.
   * @example pipeline('orders').options.batchSize // 1024, the default
   */
  readonly options: Required<Pick<PipelineOptions, 'onError' | 'batchSize' | 'retries'>> & Pick<PipelineOptions, 'deadLetter' | 'state' | 'slo' | 'lineage' | 'registry' | 'combine'> & { sinkWriteTimeoutMs: number; stopTimeoutMs: number; bufferTimeoutMs: number }
  /**
   * The logical graph: every step in the order it was added (what `sluice describe` prints).
   * @example p.nodes.map((n) => `${n.id} (${n.kind})`) // ['source-jsonl-1 (source-jsonl)', 'map-1 (map)', ...]
   */
  readonly nodes: StepNode[] = []
  private readonly kindCounts = new Map<string, number>()
  private errorsNode: StepNode | undefined

  constructor(name: string, options: PipelineOptions = {}) {
    if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw userError('SLUICE_BAD_PIPELINE_NAME', `pipeline name '${String(name)}' is invalid`, { hint: 'use letters, digits, dot, dash and underscore, starting with a letter or digit' })
    }
    this.name = name
    const onError = options.onError ?? 'fail'
    if (!['fail', 'skip', 'error-output', 'dead-letter'].includes(onError)) {
      throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': onError must be 'fail', 'skip', 'error-output' or 'dead-letter', got '${onError}'`)
    }
    const batchSize = options.batchSize ?? 1024
    if (!Number.isInteger(batchSize) || batchSize < 1) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': batchSize must be a positive integer, got ${batchSize}`)
    const retries = options.retries ?? {}
    resolveRetries(name, retries)
    const deadLetter = options.deadLetter
    if (deadLetter !== undefined && (deadLetter === null || typeof deadLetter !== 'object' || (deadLetter.dir !== undefined && (typeof deadLetter.dir !== 'string' || deadLetter.dir === '')) || (deadLetter.topic !== undefined && typeof deadLetter.topic !== 'string') || (deadLetter.kafka !== undefined && (typeof deadLetter.kafka !== 'object' || deadLetter.kafka === null || deadLetter.kafka.brokers === undefined)))) {
      throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': deadLetter must be { dir: '<log folder>', topic?: '<topic>' } or { kafka: { brokers }, topic?: '<topic>' }`)
    }
    const kept = deadLetter?.retention
    if (kept !== undefined) {
      if (kept === null || typeof kept !== 'object') throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': deadLetter.retention must be { maxAge?, maxBytes? }`)
      if (kept.maxAge !== undefined) parseDuration(kept.maxAge, `pipeline '${name}' deadLetter.retention.maxAge`, { allowZero: false })
      if (kept.maxBytes !== undefined && (!Number.isSafeInteger(kept.maxBytes) || kept.maxBytes < 1)) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': deadLetter.retention.maxBytes must be a positive integer`)
    }
    const state = options.state
    if (state !== undefined && (typeof state !== 'object' || state === null || (state.backend !== undefined && state.backend !== 'heap' && state.backend !== 'durable'))) {
      throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': state.backend must be 'heap' or 'durable'`)
    }
    if (state?.memoryBudget !== undefined) parseByteSize(state.memoryBudget, `pipeline '${name}': state.memoryBudget`)
    if (state !== undefined) checkCacheOptions(state, `pipeline '${name}': state`)
    if (options.slo !== undefined) sloTargets(options.slo, name)
    if (options.registry !== undefined && (typeof options.registry !== 'string' || options.registry === '')) throw userError('SLUICE_BAD_OPTION', `pipeline '${name}': registry must be a folder or an http(s) URL`)
    const sinkWriteTimeoutMs = parseDuration(options.sinkWriteTimeout ?? '5m', `pipeline '${name}' sinkWriteTimeout`, { allowZero: false })
    const stopTimeoutMs = parseDuration(options.stopTimeout ?? '30s', `pipeline '${name}' stopTimeout`, { allowZero: false })
    const bufferTimeoutMs = parseDuration(options.bufferTimeout ?? DEFAULT_BUFFER_TIMEOUT, `pipeline '${name}' bufferTimeout`, { allowZero: false })
    this.options = { onError, batchSize, retries, sinkWriteTimeoutMs, stopTimeoutMs, bufferTimeoutMs, ...(deadLetter !== undefined ? { deadLetter: { ...deadLetter } } : {}), ...(state !== undefined ? { state: { ...state } } : {}), ...(options.slo !== undefined ? { slo: structuredClone(options.slo) } : {}), ...(options.lineage !== undefined ? { lineage: typeof options.lineage === 'string' ? options.lineage : { ...options.lineage } } : {}), ...(options.registry !== undefined ? { registry: options.registry } : {}), ...(options.combine !== undefined ? { combine: checkCombine(options.combine, `pipeline '${name}'`) } : {}) }
  }

  /**
   * Reads a source; call it several times for several inputs.
   * @example const clicks = p.from(source.jsonl<Click>('clicks.jsonl', { eventTime: (c) => c.ts }))
   */
  from<T>(source: Source<T>): Stream<T> {
    const node = this.addNode(`source-${source.kind}`, [], { source: source.describe(), bounded: source.bounded }, { role: 'source', source })
    return new Stream<T>(this, node)
  }

  /**
   * Records whose user function failed or whose input was malformed, under `onError: 'error-output'`:
   * the step id, the error, the source position and the record.
   * @example p.errors().map((e) => ({ step: e.step, position: e.position, error: e.error })).to(sink.jsonl('out/errors.jsonl'))
   */
  errors(): Stream<ErrorRecord> {
    if (this.errorsNode === undefined) this.errorsNode = this.addNode('errors', [], {}, { role: 'errors' })
    return new Stream<ErrorRecord>(this, this.errorsNode)
  }

  /** @internal */
  addNode(kind: string, inputs: Edge[], describe: Record<string, unknown>, impl: StepImpl): StepNode {
    const n = (this.kindCounts.get(kind) ?? 0) + 1
    this.kindCounts.set(kind, n)
    const node: StepNode = { id: `${kind}-${n}`, explicitId: false, kind, inputs, describe, impl, sideOutputs: [] }
    this.nodes.push(node)
    return node
  }

  /**
   * Plain description of the graph (what the dashboard and lineage show).
   * @example p.describe().steps.map((s) => `${s.id} (${s.kind})`)
   */
  describe(): { name: string; steps: { id: string; kind: string; inputs: { from: string; tag?: string; keyed: boolean }[]; config: Record<string, unknown> }[] } {
    return {
      name: this.name,
      steps: this.nodes.map((n) => ({
        id: n.id,
        kind: n.kind,
        inputs: n.inputs.map((e) => ({ from: e.from.id, ...(e.tag ? { tag: e.tag } : {}), keyed: e.key !== undefined })),
        config: n.describe,
      })),
    }
  }
}

/**
 * Starts a pipeline.
 * @example export default pipeline('clicks').from(source.jsonl('clicks.jsonl')).to(sink.console())
 */
export function pipeline(name: string, options?: PipelineOptions): Pipeline {
  return new Pipeline(name, options)
}
