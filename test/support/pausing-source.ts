// A bounded test source that stops before one of its batches until a hook has run: lets a test act on a
// service (kill a connection, wait for a reconnect) at a known point of a run, without timing.
import { END, type Source } from '../../src/core/source.ts'

/** Records `{ id }` 0..n-1 in batches of `batch`; before batch number `at` it awaits `hook()` once. */
export function pausingSource(n: number, at: number, hook: () => Promise<void>, batch = 10): Source<{ id: number }> {
  return {
    kind: 'test-pausing',
    bounded: true,
    options: {},
    describe: () => ({ kind: 'test-pausing', n }),
    open: () => {
      let next = 0
      let batches = 0
      return {
        partitions: 1,
        async read() {
          if (next >= n) return END
          if (batches++ === at) await hook()
          const values = Array.from({ length: Math.min(batch, n - next) }, (_, i) => ({ id: next + i }))
          next += values.length
          return { values, times: values.map(() => 0) }
        },
        close: () => undefined,
      }
    },
  }
}
