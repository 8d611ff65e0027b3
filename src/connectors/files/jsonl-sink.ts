import { basename } from 'node:path'
import { SluiceError } from '../../core/errors.ts'
import type { Sink, SinkContext, SinkWriter } from '../../core/sink.ts'
import { encodeJsonLines } from './encode.ts'
import { PartFiles } from './part-files.ts'
import { openFile } from './jsonl-file.ts'

export interface JsonlSinkOptions {
  /**
   * Append to the file instead of replacing it: at-least-once, the cheaper choice. With checkpoints the file
   * is fsynced at each barrier, and records after the last checkpoint are written again after a restart.
   * Only for one file (see `layout`).
   */
  append?: boolean
  /**
   * 'file': one file at `path`, written by one subtask. 'parts': a folder of part files at `path`, one writer
   * per subtask. Default: 'file' when the path's last part has an extension (`out/counts.jsonl`), 'parts'
   * otherwise (`out/counts`, `out/counts/`). The same in every run, with or without checkpoints.
   */
  layout?: 'file' | 'parts'
}

/** The layout a path gets by default: a name with an extension is a file. */
export function defaultLayout(path: string): 'file' | 'parts' {
  if (path.endsWith('/')) return 'parts'
  const name = basename(path)
  return name.lastIndexOf('.') > 0 ? 'file' : 'parts'
}

/**
 * Writes one JSON object per line. Changelog records carry an `op` field (see encodeJsonLines). A full
 * OS buffer slows the pipeline down. The path says what it writes, whatever the run (see `layout`):
 *
 * - `sink.jsonl('out/counts.jsonl')`: one file, replaced by each fresh run (or appended to, with `append`).
 *   It runs as one subtask. With checkpoints it is exactly-once: the file is fsynced at each barrier and its
 *   length kept in the checkpoint; a restart cuts it back to the restored checkpoint's length, so the
 *   records after it are written once more and only once. Records are in the file as soon as they are
 *   written, before their checkpoint completes: a reader during a run may see records that a restart removes.
 * - `sink.jsonl('out/counts')`: a folder of part files, one writer per subtask, written by two-phase commit:
 *   records become visible as `out/counts/part-<subtask>-<checkpoint>.jsonl` when their checkpoint completes
 *   (staged in `out/counts/.sluice-staging/` until then; see PartFiles); without checkpoints each subtask's
 *   records become `part-<subtask>-0.jsonl` at the end of the run. Read the output in order with
 *   `committedParts(path)`. A fresh run replaces the folder's parts.
 *
 * The runtime takes a final checkpoint when the input ends, before `close`; records written after the last
 * checkpoint (a run that is stopped) are discarded on restore, to be written again from the restored source
 * positions. Guarantee: exactly-once with checkpoints, at-least-once without (a failed run is run again
 * whole) and with `append`.
 * @example .to(sink.jsonl('out/counts.jsonl'))
 */
export function jsonl<T>(path: string, options: JsonlSinkOptions = {}): Sink<T> {
  if (typeof path !== 'string' || path === '') throw new SluiceError('SLUICE_BAD_ARGUMENT', 'sink.jsonl needs a file path')
  const append = options.append ?? false
  const layout = options.layout ?? defaultLayout(path)
  if (layout !== 'file' && layout !== 'parts') throw new SluiceError('SLUICE_BAD_OPTION', `sink.jsonl: layout must be 'file' or 'parts', not '${String(layout)}'`)
  if (append && layout === 'parts') {
    throw new SluiceError('SLUICE_BAD_OPTION', `sink.jsonl: append writes one file, and '${path}' is a folder of part files`, { hint: "give a file name with an extension, or layout: 'file'" })
  }
  return {
    kind: 'jsonl',
    guarantee: append ? 'at-least-once' : 'exactly-once',
    guaranteeFor: (run) => (run.checkpointing && !append ? 'exactly-once' : 'at-least-once'),
    singleSubtask: layout === 'file',
    describe: () => ({ kind: 'jsonl', path, layout, append, commit: layout === 'parts' ? 'part files by two-phase commit' : append ? 'appends' : 'one file, cut back to the restored checkpoint on restart' }),
    open(ctx): Promise<SinkWriter<T>> {
      return layout === 'parts' ? openParts(path, ctx) : openFile(path, append, ctx)
    },
  }
}

async function openParts<T>(path: string, ctx: SinkContext): Promise<SinkWriter<T>> {
  const parts = new PartFiles(path, ctx)
  await parts.open()
  const tpc = parts.tpc
  return {
    write: (batch) => parts.write(encodeJsonLines(batch, ctx)),
    bytesWritten: () => parts.bytesWritten,
    preCommit: (id) => tpc.preCommit(id),
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
    async close() {
      // Without checkpoints the run's records are committed at its end, as checkpoint 0.
      if (ctx.checkpointing !== true) await tpc.commit(0, await tpc.preCommit(0))
      await parts.close()
    },
  }
}
