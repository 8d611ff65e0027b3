import { END, type Source, type SourceOptions, type SourceRead } from '../../src/core/source.ts'

/**
 * A source for engine tests: `read(partition)` asks `next(partition, max)` for what to return (a batch of
 * values, null for "nothing yet", or END), so a test can hold a partition back, make it idle, or drive
 * a clock from inside the read loop.
 */
export function scripted<T>(
  partitions: number,
  next: (partition: number, max: number) => T[] | null | typeof END,
  options: SourceOptions<T> & { bounded?: boolean } = {},
): Source<T> {
  return {
    kind: 'scripted',
    bounded: options.bounded ?? false,
    options,
    describe: () => ({ kind: 'scripted', partitions }),
    open: () => ({
      partitions,
      read(p, max): SourceRead<T> {
        const r = next(p, max)
        if (r === null || r === END) return r
        return { values: r, times: [] }
      },
      close() {},
    }),
  }
}

export { END }
