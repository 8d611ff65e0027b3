import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { PartFiles } from './part-files.ts'

/**
 * A binary file format as its sinks write it: the bytes of each batch (or none yet), the bytes that end a file
 * (undefined when nothing was added since the file began), and a file with no record (undefined when there is
 * none to write, e.g. no schema known yet).
 */
export interface FileEncoder {
  add(batch: Batch<unknown>): Uint8Array | undefined
  finish(): Uint8Array | undefined
  empty(): Uint8Array | undefined
}

/**
 * A sink writer for a binary format: with checkpoints, part files `path/part-<subtask>-<checkpoint>.<ext>`
 * committed by two-phase commit (each checkpoint ends its file); without, one file at `path` written beside it
 * and renamed into place at close (a failed run leaves the previous file).
 * @example return openEncodedFile(path, encoder, ctx, { ext: 'avro', sink: 'sink.avro' })
 */
export function openEncodedFile<T>(path: string, encoder: FileEncoder, ctx: SinkContext, o: { ext: string; sink: string }): Promise<SinkWriter<T>> {
  return ctx.checkpointing === true ? openParts(path, encoder, ctx, o) : openFile(path, encoder, ctx, o.sink)
}

async function openParts<T>(path: string, encoder: FileEncoder, ctx: SinkContext, o: { ext: string; sink: string }): Promise<SinkWriter<T>> {
  const parts = new PartFiles(path, ctx, o)
  await parts.open()
  const tpc = parts.tpc
  const put = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : parts.write(bytes))
  return {
    write: (batch) => put(encoder.add(batch as Batch<unknown>)),
    bytesWritten: () => parts.bytesWritten,
    async preCommit(id) {
      await put(encoder.finish())
      return tpc.preCommit(id)
    },
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
    // Records after the last checkpoint stay unwritten, as sink.jsonl leaves them staged: the runtime checkpoints at end of input.
    close: () => parts.close(),
  }
}

async function openFile<T>(path: string, encoder: FileEncoder, ctx: SinkContext, sink: string): Promise<SinkWriter<T>> {
  const tmp = join(dirname(path), `.${basename(path)}.sluice-inprogress`)
  const io = async <R>(doing: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_SINK_FAILED', `${sink}: cannot ${doing} '${path}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e })
    }
  }
  await io('create the folder of', () => mkdir(dirname(path), { recursive: true }))
  const fh: FileHandle = await io('write', () => open(tmp, 'w'))
  let bytes = 0
  const put = (b: Uint8Array | undefined) => {
    if (b === undefined) return undefined
    bytes += b.byteLength
    return io('write', async () => void (await fh.write(b)))
  }
  return {
    write: (batch) => put(encoder.add(batch as Batch<unknown>)),
    bytesWritten: () => bytes,
    async close() {
      // A run without records still replaces its file, with an empty one when the format can write it.
      await put(encoder.finish() ?? (bytes === 0 ? encoder.empty() : undefined))
      await io('write', async () => {
        await fh.sync()
        await fh.close()
      })
      if (bytes === 0) {
        await io('write', async () => {
          await rm(tmp, { force: true })
          await rm(path, { force: true })
        })
      } else {
        await io('write', () => rename(tmp, path))
      }
    },
  }
}
