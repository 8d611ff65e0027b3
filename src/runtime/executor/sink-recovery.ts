import type { SinkWriter } from '../../core/sink.ts'

/**
 * A sink subtask recovers what it inherits from the restored checkpoint: for each old subtask it takes over
 * (old subtask j goes to j % parallelism), the handles pre-committed and not known to be committed, oldest
 * first. All but the newest of each list are committed (commit is idempotent); the sink then recovers from its
 * own newest, discarding what was written after it.
 */
export async function recoverSink(sink: SinkWriter<unknown>, subtask: number, inherited: { subtask: number; checkpointId: number; handle: unknown }[][]): Promise<void> {
  let own: { checkpointId: number; handle: unknown } | undefined
  for (const list of inherited) {
    if (list.length === 0) continue
    const mine = list[0].subtask === subtask
    const upTo = mine ? list.length - 1 : list.length
    for (let i = 0; i < upTo; i++) await sink.commit?.(list[i].checkpointId, list[i].handle)
    if (mine) own = { checkpointId: list[list.length - 1].checkpointId, handle: list[list.length - 1].handle }
  }
  await sink.recover?.(own)
}
