import { createWriteStream, fstat, fsync, ftruncate, mkdirSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { SinkContext, SinkWriter } from '../../core/sink.ts'
import { TwoPhaseCommit, type Transactions } from '../../checkpoint/two-phase-commit.ts'
import { encodeJsonLines } from './encode.ts'

/** A transaction of the one-file layout: the file's length once its records were fsynced. */
interface Length {
  length: number
}

/**
 * sink.jsonl's one-file layout. Without checkpoints the file is replaced (or appended to). With checkpoints
 * and `append`, what was written before a barrier is fsynced there (at-least-once). With checkpoints
 * otherwise, through `TwoPhaseCommit`: pre-commit fsyncs and records the file's length, commit has nothing
 * left to do, and a restart cuts the file back to the length of the restored checkpoint (to nothing on a
 * fresh start), so the records written after it are gone before the source replays them.
 */
export async function openFile<T>(path: string, append: boolean, ctx: SinkContext): Promise<SinkWriter<T>> {
  const transactional = ctx.checkpointing === true && !append
  mkdirSync(dirname(path), { recursive: true })
  // A transactional writer keeps what is there until recovery says how much of it is committed.
  const out = createWriteStream(path, { flags: append || transactional ? 'a' : 'w' })
  let failure: Error | undefined
  out.on('error', (e) => (failure = e))
  await once(out, 'open')
  const check = () => {
    if (failure) throw new SluiceError('SLUICE_SINK_FAILED', `cannot write '${path}': ${failure.message}`, { domain: 'external', step: ctx.stepId, cause: failure })
  }
  const writer: SinkWriter<T> = {
    write(batch) {
      check()
      if (!out.write(encodeJsonLines(batch, ctx))) return once(out, 'drain').then(check)
    },
    // The stream counts what it has written; what it still buffers is not out yet.
    bytesWritten: () => out.bytesWritten,
    async close() {
      check()
      await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
    },
  }
  if (append && ctx.checkpointing === true) {
    // At-least-once: what was written before the barrier is made durable; records after the last checkpoint
    // are written again after a restart.
    writer.preCommit = async () => {
      check()
      await durable(out, path, ctx)
      return null
    }
  }
  if (!transactional) return writer

  const io = async <R>(doing: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn()
    } catch (e) {
      throw new SluiceError('SLUICE_SINK_FAILED', `sink.jsonl: cannot ${doing} '${path}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e })
    }
  }
  const fd = () => (out as unknown as { fd: number }).fd
  let committed = 0
  const txns: Transactions<Length> = {
    async preCommit() {
      check()
      const length = await durable(out, path, ctx)
      return { length }
    },
    async commit(t) {
      committed = Math.max(committed, t.length)
    },
    // Only inherited transactions were committed yet: the longest is the restored checkpoint's length.
    abort: () => io('truncate', async () => void (await promisify(ftruncate)(fd(), committed))),
    check(t) {
      const n = (t as Length | null)?.length
      if (!Number.isSafeInteger(n) || (n as number) < 0) throw new SluiceError('SLUICE_BAD_POSITION', 'sink.jsonl: a transaction in the checkpoint handle must be { length }', { domain: 'internal', step: ctx.stepId })
      return t as Length
    },
  }
  const tpc = new TwoPhaseCommit(txns, ctx, 'sink.jsonl')
  const write = writer.write
  return {
    ...writer,
    write: (batch) => (tpc.recovered ? write(batch) : tpc.ensureRecovered().then(() => write(batch))),
    preCommit: (id) => tpc.preCommit(id),
    commit: (id, handle) => tpc.commit(id, handle),
    recover: (restored) => tpc.recover(restored),
  }
}

/** Waits until every earlier write reached the file, fsyncs it, and returns its length. */
async function durable(out: WriteStream, path: string, ctx: SinkContext): Promise<number> {
  try {
    // The callback of an empty write runs once every earlier write reached the file.
    await new Promise<void>((resolve, reject) => out.write('', (e) => (e ? reject(e) : resolve())))
    const fd = (out as unknown as { fd: number }).fd
    await promisify(fsync)(fd)
    return (await promisify(fstat)(fd)).size
  } catch (e) {
    throw new SluiceError('SLUICE_SINK_FAILED', `sink.jsonl: cannot write '${path}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e })
  }
}
