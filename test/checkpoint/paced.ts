import type { Batch } from '../../src/core/batch.ts'
import type { Source, SourceRead, SourceReader } from '../../src/core/source.ts'

/**
 * Wraps a source so that few records are read between two checkpoints: once `every` are read, reads return
 * nothing until the runtime takes the source's positions for a checkpoint. Checkpoints then come at record
 * counts, not at moments: a run of `count` records takes at least count / (every + batch size) of them,
 * however fast or busy the machine is. Reads are never cut short, so batches keep the boundaries of an
 * unpaced run (a join's changelog depends on them). Without `every` (a run without periodic checkpoints
 * would wait forever), the source itself.
 */
export function pacedByCheckpoints<T>(source: Source<T>, every: number | string | undefined): Source<T> {
  if (every === undefined) return source
  const most = Number(every)
  return {
    kind: source.kind,
    bounded: source.bounded,
    ...(source.assignSplitsOnDemand !== undefined ? { assignSplitsOnDemand: source.assignSplitsOnDemand } : {}),
    options: source.options,
    describe: () => source.describe(),
    async open(ctx) {
      const reader = await source.open(ctx)
      let left = most
      const counted = (r: SourceRead<T>): SourceRead<T> => {
        if (r !== null && typeof r === 'object') left -= (r as Batch<T>).values.length
        return r
      }
      const paced: SourceReader<T> = {
        get partitions() {
          return reader.partitions
        },
        read(partition, max) {
          if (left <= 0) return null
          const r = reader.read(partition, max)
          return r instanceof Promise ? r.then(counted) : counted(r)
        },
        positions() {
          left = most
          return reader.positions!()
        },
        close: () => reader.close(),
      }
      if (reader.seek !== undefined) paced.seek = (p) => reader.seek!(p)
      if (reader.onCheckpointComplete !== undefined) paced.onCheckpointComplete = (id) => reader.onCheckpointComplete!(id)
      if (reader.discover !== undefined) Object.assign(paced, { discover: () => reader.discover!(), discoverEveryMs: reader.discoverEveryMs })
      if (reader.splits !== undefined) paced.splits = () => reader.splits!()
      if (reader.adopt !== undefined) paced.adopt = (names) => reader.adopt!(names)
      return paced
    },
  }
}
