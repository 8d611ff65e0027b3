import { END, type Source, type SourceOptions, type SourceReader } from '../../core/source.ts'
import { userError } from '../../core/errors.ts'
import { checkSeek } from '../resume.ts'

/**
 * A bounded source over an array (for tests and examples). With `partitions`, record i goes to
 * partition i % partitions, each with its own watermark. Resumable: a partition's position is the
 * index of its next record.
 * @example source.collection([{ user: 'a', ts: 0 }], { eventTime: c => c.ts })
 */
export function collection<T>(items: readonly T[], options: SourceOptions<T> & { partitions?: number } = {}): Source<T> {
  if (!Array.isArray(items)) throw userError('SLUICE_BAD_ARGUMENT', `source.collection needs an array, got ${typeof items}`)
  const partitions = options.partitions ?? 1
  if (!Number.isInteger(partitions) || partitions < 1) throw userError('SLUICE_BAD_OPTION', `source.collection: partitions must be a positive integer, got ${partitions}`)
  return {
    kind: 'collection',
    bounded: true,
    options,
    describe: () => ({ kind: 'collection', records: items.length, partitions }),
    open(): SourceReader<T> {
      const next = Array.from({ length: partitions }, (_, p) => p)
      return {
        partitions,
        read(p, max) {
          if (next[p] >= items.length) return END
          const values: T[] = []
          const pos: number[] = []
          let i = next[p]
          for (; i < items.length && values.length < max; i += partitions) {
            values.push(items[i])
            pos.push(i)
          }
          next[p] = i
          return { values, times: [], pos }
        },
        positions: () => [...next],
        seek(positions) {
          checkSeek('collection', positions, partitions).forEach((at, p) => {
            if (at % partitions !== p % partitions) throw userError('SLUICE_BAD_POSITION', `source.collection: position ${at} does not belong to partition ${p} of ${partitions}`)
            next[p] = at
          })
        },
        close() {},
      }
    },
  }
}
