import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { once } from 'node:events'
import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { encodeJsonLines } from './encode.ts'

/**
 * Writes one JSON object per line to a file (created with its folder; replaced if it exists). Changelog
 * records carry an `op` field (see encodeJsonLines). A full OS buffer slows the pipeline down.
 * @example .to(sink.jsonl('out/counts.jsonl'))
 */
export function jsonl<T>(path: string, options: { append?: boolean } = {}): Sink<T> {
  if (typeof path !== 'string' || path === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.jsonl needs a file path')
  return {
    kind: 'jsonl',
    guarantee: 'at-least-once',
    describe: () => ({ kind: 'jsonl', path, append: options.append ?? false }),
    async open(ctx): Promise<SinkWriter<T>> {
      mkdirSync(dirname(path), { recursive: true })
      const out = createWriteStream(path, { flags: options.append ? 'a' : 'w' })
      let failure: Error | undefined
      out.on('error', (e) => (failure = e))
      await once(out, 'open')
      const check = () => {
        if (failure) throw new SluiceError('SLUICE_SINK_FAILED', `cannot write '${path}': ${failure.message}`, { domain: 'external', step: ctx.stepId, cause: failure })
      }
      return {
        write(batch) {
          check()
          if (!out.write(encodeJsonLines(batch))) return once(out, 'drain').then(check)
        },
        async close() {
          check()
          await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
        },
      }
    },
  }
}
