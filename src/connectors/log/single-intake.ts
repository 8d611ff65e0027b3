import type { SourceContext, SourceReader } from '../../core/source.ts'

/**
 * Whether this reader is the one that takes records in, for a source whose intake must exist once per
 * pipeline (`source.http`'s port, `source.mqtt`'s broker session): subtask 0. The intake stores records in a
 * one-partition topic of the embedded log, which subtask 0 reads; the steps after it run at the pipeline's
 * parallelism from the first keyed exchange on.
 */
export function takesIntake(ctx: SourceContext): boolean {
  return (ctx.subtask ?? 0) === 0
}

/**
 * The reader of the other subtasks of such a source: one partition (the intake's) that it never reads, since
 * partition 0 belongs to subtask 0. Its positions are those it was restored with, unchanged.
 */
export function otherSubtaskReader<T>(): SourceReader<T> {
  let positions: unknown[] = [null]
  return {
    partitions: 1,
    read: () => null,
    positions: () => positions,
    seek: (p) => {
      positions = [...p]
    },
    close: () => undefined,
  }
}
