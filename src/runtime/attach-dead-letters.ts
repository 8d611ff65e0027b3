import type { Pipeline } from '../api/pipeline.ts'
import type { Clock } from '../core/clock.ts'
import { userError } from '../core/errors.ts'
import type { TaskGraph } from './task-graph.ts'
import { resolveRetries } from '../dlq/retry.ts'
import { DeadLetterWriter } from '../dlq/writer.ts'
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
export async function attachDeadLetters(p: Pipeline, graph: TaskGraph, o: AttachOptions): Promise<DeadLetterWriter | undefined> {
  configureErrors(p, graph, o.clock)
  if (p.options.onError !== 'dead-letter') return undefined
  const dir = o.dir ?? p.options.deadLetter?.dir
  if (dir === undefined) {
    throw userError('SLUICE_BAD_OPTION', `pipeline '${p.name}': onError 'dead-letter' needs a log folder`, { hint: "set pipeline(name, { onError: 'dead-letter', deadLetter: { dir: 'data/log' } })" })
  }
  const writer = await DeadLetterWriter.open({ dir, topic: p.options.deadLetter?.topic ?? defaultTopic(p.name), checkpointing: o.checkpointing })
  writer.onPending = (w) => void graph.pendingWrites.push(w)
  graph.errors.attach(writer)
  return writer
}
