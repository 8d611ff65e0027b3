import type { Sink } from '../../core/sink.ts'

/**
 * Discards every record (counted in the step's metrics): for benchmarks and dry runs.
 * @example stream.to(sink.blackhole())
 */
export function blackhole<T>(): Sink<T> {
  return { kind: 'blackhole', guarantee: 'none', describe: () => ({ kind: 'blackhole' }), open: () => ({ write() {}, close() {} }) }
}
