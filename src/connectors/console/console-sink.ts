import { once } from 'node:events'
import type { Sink } from '../../core/sink.ts'
import { encodeJsonLines } from '../files/encode.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'

function outputError(e: NodeJS.ErrnoException, step: string): SluiceError {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
    return new SluiceError('SLUICE_OUTPUT_CLOSED', 'the reader of standard output went away', { domain: 'user', step, hint: 'nothing to do: the run stopped because its output is no longer read' })
  }
  return new SluiceError('SLUICE_SINK_FAILED', `cannot write to standard output: ${errorMessage(e)}`, { domain: 'external', step, cause: e })
}

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
    open: (ctx) => {
      // The reader went away (`| head` closed the pipe): the run stops quietly, see SLUICE_OUTPUT_CLOSED.
      let closed: SluiceError | undefined
      const onError = (e: NodeJS.ErrnoException) => (closed ??= outputError(e, ctx.stepId))
      stream.on('error', onError)
      return {
        write(batch) {
          if (closed !== undefined) throw closed
          if (!stream.write(encodeJsonLines(batch, ctx))) {
            return once(stream, 'drain').then(
              () => {},
              (e: NodeJS.ErrnoException) => {
                throw (closed ??= outputError(e, ctx.stepId))
              },
            )
          }
        },
        close() {
          stream.off('error', onError)
        },
      }
    },
  }
}
