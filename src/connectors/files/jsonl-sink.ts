import { createWriteStream, fsync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { once } from 'node:events'
import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { encodeJsonLines } from './encode.ts'
import { PartFiles } from './part-files.ts'

export interface JsonlSinkOptions {
  /**
   * Append to the file instead of replacing it: at-least-once, the cheaper choice. With checkpoints the file
   * is fsynced at each barrier, and records after the last checkpoint are written again after a restart.
   */
  append?: boolean
}

/**
 * Writes one JSON object per line. Changelog records carry an `op` field (see encodeJsonLines). A full
 * OS buffer slows the pipeline down.
 *
 * Without checkpoints `path` is one file, created with its folder and replaced (or appended to, with
 * `append`). With checkpoints `path` is a folder of part files, written exactly once by two-phase commit:
 * records become visible as `path/part-<subtask>-<checkpoint>.jsonl` when their checkpoint completes;
 * until then they are staged in `path/.sluice-staging/` (see PartFiles). Read the output in order with
 * `committedParts(path)`. The runtime takes a final checkpoint when the input ends, before `close`;
 * records written after the last checkpoint (a run that is stopped) stay staged and are discarded on
 * restore, to be written again from the restored source positions.
 *
 * `guarantee` is 'exactly-once' (with checkpoints by two-phase commit; without, each run rewrites its
 * file whole), or 'at-least-once' with `append`.
 * @example .to(sink.jsonl('out/counts.jsonl'))
 */
export function jsonl<T>(path: string, options: JsonlSinkOptions = {}): Sink<T> {
  if (typeof path !== 'string' || path === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.jsonl needs a file path')
  const append = options.append ?? false
  return {
    kind: 'jsonl',
    guarantee: append ? 'at-least-once' : 'exactly-once',
    describe: () => ({ kind: 'jsonl', path, append, commit: append ? 'none' : 'file rewritten per run; part files by two-phase commit with checkpoints' }),
    open(ctx): Promise<SinkWriter<T>> {
      if (ctx.checkpointing === true && !append) return openParts(path, ctx)
      return openFile(path, append, ctx)
    },
  }
}

async function openParts<T>(path: string, ctx: SinkContext): Promise<SinkWriter<T>> {
  const parts = new PartFiles(path, ctx)
  await parts.open()
  const tpc = parts.tpc
  return {
    write: (batch) => parts.write(encodeJsonLines(batch)),
    preCommit: (id) => tpc.preCommit(id),
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
    close: () => parts.close(),
  }
}

async function openFile<T>(path: string, append: boolean, ctx: SinkContext): Promise<SinkWriter<T>> {
  mkdirSync(dirname(path), { recursive: true })
  const out = createWriteStream(path, { flags: append ? 'a' : 'w' })
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
    // At-least-once with checkpoints (append): what was written before the barrier is made durable, and
    // records after the last checkpoint are written again after a restart.
    ...(append
      ? {
          async preCommit() {
            check()
            // The callback of an empty write runs once every earlier write reached the file.
            await new Promise<void>((resolve, reject) => out.write('', (e) => (e ? reject(e) : resolve())))
            const fd = (out as unknown as { fd: number }).fd
            await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())))
            return null
          },
        }
      : {}),
  }
}
