import type { SinkWriter } from '../../core/sink.ts'

/**
 * A sink subtask recovers what it inherits from the restored checkpoint: for each old subtask it takes over
 * (old subtask j goes to j % parallelism), the handles pre-committed and not known to be committed, oldest
 * first. The sink commits them (idempotently) and discards what those old subtasks wrote after them.
 */
export async function recoverSink(sink: SinkWriter<unknown>, inherited: { subtask: number; checkpointId: number; handle: unknown }[][]): Promise<void> {
  await sink.recover?.(inherited.flat())
}
