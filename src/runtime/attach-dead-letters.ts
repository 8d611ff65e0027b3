import type { Pipeline } from '../api/pipeline.ts'
import type { Clock } from '../core/clock.ts'
import { userError } from '../core/errors.ts'
import type { TaskGraph } from './task-graph.ts'
import { resolveRetries } from '../dlq/retry.ts'
import { DeadLetterWriter } from '../dlq/writer.ts'
import type { LetterWriter } from '../dlq/letter-writer.ts'
import { KafkaDeadLetterWriter } from '../connectors/kafka/dead-letters.ts'
import { personalLetters } from '../dlq/protect-letter.ts'

/** The dead-letter topic of a pipeline unless its options name one. */
export function defaultTopic(pipeline: string): string {
  return `${pipeline}.dlq`
}

/** Sets the pipeline's retries and dead-letter details on a graph's error sink (every thread of a run does this). */
export function configureErrors(p: Pipeline, graph: TaskGraph, clock: Clock): void {
  const keys = p.options.deadLetter?.personalKeys
  const personal = [...new Set(p.nodes.flatMap((n) => (n.impl.role === 'source' ? ((n.impl.source.contract as { personal?: readonly string[] } | undefined)?.personal ?? []) : [])))]
  graph.errors.configure({
    pipeline: p.name,
    retries: resolveRetries(p.name, p.options.retries),
    now: () => clock.now(),
    includeStack: p.options.deadLetter?.includeStack === true,
    ...(keys !== undefined && personal.length > 0 ? { protectLetter: personalLetters(personal, keys) } : {}),
  })
}

export interface AttachOptions {
  clock: Clock
  /** True when the run takes checkpoints (letters then become visible at checkpoint commit). */
  checkpointing?: boolean
  /** Overrides the pipeline's deadLetter.dir (e.g. from a CLI flag). */
  dir?: string
}

/**
 * On the thread that writes dead letters (the only one in a single-thread run, the main thread of a
 * parallel one): configures the error sink and, under `onError: 'dead-letter'`, opens the writer, attaches
 * it to `graph.errors.deadLetters` and makes the runner wait on its appends like on a sink's writes.
 * Returns the writer (close it at the end of the run), or undefined under other policies.
 */
export async function attachDeadLetters(p: Pipeline, graph: TaskGraph, o: AttachOptions): Promise<LetterWriter | undefined> {
  configureErrors(p, graph, o.clock)
  if (p.options.onError !== 'dead-letter') return undefined
  const writer = await openDeadLetterWriter(p, o)
  writer.onPending = (w) => void graph.pendingWrites.push(w)
  graph.errors.attach(writer)
  return writer
}

/**
 * Opens the pipeline's dead-letter writer: a Kafka topic with `deadLetter.kafka`, otherwise a topic of the
 * embedded log in `deadLetter.dir` (or `o.dir`).
 * @example const writer = await openDeadLetterWriter(p, { checkpointing: true })
 */
export async function openDeadLetterWriter(p: Pipeline, o: { checkpointing?: boolean; dir?: string }): Promise<LetterWriter> {
  const dl = p.options.deadLetter
  const topic = dl?.topic ?? defaultTopic(p.name)
  if (dl?.kafka !== undefined) return KafkaDeadLetterWriter.open({ ...dl.kafka, topic, pipeline: p.name, checkpointing: o.checkpointing })
  const dir = o.dir ?? dl?.dir
  if (dir === undefined) {
    throw userError('SLUICE_BAD_OPTION', `pipeline '${p.name}': onError 'dead-letter' needs a log folder`, { hint: "set pipeline(name, { onError: 'dead-letter', deadLetter: { dir: 'data/log' } }), or deadLetter: { kafka: { brokers } }" })
  }
  return DeadLetterWriter.open({ dir, topic, checkpointing: o.checkpointing, ...(dl?.retention !== undefined ? { retention: dl.retention } : {}) })
}
