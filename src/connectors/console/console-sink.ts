import { once } from 'node:events'
import type { Sink } from '../../core/sink.ts'
import { encodeJsonLines } from '../files/encode.ts'

/**
 * Prints each record as a JSON line on standard output (changelog records carry `op`), in order: one subtask.
 * @example stream.to(sink.console()) // {"page":"/docs","views":2}
 */
export function consoleSink<T>(options: { stream?: NodeJS.WritableStream } = {}): Sink<T> {
  const stream = options.stream ?? process.stdout
  return {
    kind: 'console',
    guarantee: 'none',
    singleSubtask: true,
    describe: () => ({ kind: 'console' }),
    open: (ctx) => ({
      write(batch) {
        if (!stream.write(encodeJsonLines(batch, ctx))) return once(stream, 'drain').then(() => {})
      },
      close() {},
    }),
  }
}
