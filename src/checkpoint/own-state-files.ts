import { mkdirSync, rmSync } from 'node:fs'
import { errorMessage } from '../core/errors.ts'
import type { StateFileRef } from './manifest.ts'
import type { ObjectCheckpointStorage } from './object-storage.ts'

/** Complete checkpoints kept, as the coordinator keeps them by default. */
const RETAINED = 3

/**
 * The state files one process writes for checkpoints another process coordinates, when they go to a bucket (the
 * Kafka runner's threads 1..n-1, on this machine or another): staged in this process's own folder on this
 * machine, uploaded by this process before its subtasks' acknowledgements go to the coordinator (which then
 * lists them in the manifest without touching them), and kept as this machine's copies for local recovery.
 * Copies of checkpoints no longer retained go once a checkpoint is committed.
 * @example
 * const own = new OwnStateFiles(new ObjectCheckpointStorage('s3://state/orders'))
 * const folder = own.staging(7) // subtasks write checkpoint 7's files here
 * const refs = await own.store(7, files) // uploaded and kept; `error` set on each file if the upload failed
 */
export class OwnStateFiles {
  private readonly storage: ObjectCheckpointStorage
  private readonly failures = new Map<number, unknown>()
  private retention: Promise<void> = Promise.resolve()
  /** Whether this process keeps any copy (a stateless thread asks the bucket nothing). */
  private copies = false

  constructor(storage: ObjectCheckpointStorage) {
    this.storage = storage
  }

  /**
   * Makes checkpoint `id`'s staging folder on this machine ready, empty, and returns it. It never throws: a
   * failure fails the checkpoint's files when they are stored.
   * @example const folder = own.staging(7)
   */
  staging(id: number): string {
    const folder = this.storage.ownStagingFolder(id)
    try {
      rmSync(folder, { recursive: true, force: true })
      mkdirSync(folder, { recursive: true })
      this.failures.delete(id)
    } catch (e) {
      this.failures.set(id, e)
    }
    return folder
  }

  /**
   * Uploads the files of `refs` that checkpoint `id` wrote (not those of earlier checkpoints a delta lists) and
   * keeps them as this machine's copies; returns `refs`, each new file with `error` set when that failed (the
   * checkpoint then fails, as for a file that could not be written).
   * @example const refs = await own.store(7, ack.files)
   */
  async store(id: number, refs: StateFileRef[]): Promise<StateFileRef[]> {
    const fresh = refs.filter((f) => f.checkpoint === undefined && (f as { error?: string }).error === undefined)
    if (fresh.length === 0) return refs
    try {
      const staged = this.failures.get(id)
      this.failures.delete(id)
      if (staged !== undefined) throw staged
      this.copies = true
      await this.storage.upload(id, this.storage.ownStagingFolder(id), fresh.map((f) => ({ name: f.file, bytes: f.bytes })))
      return refs
    } catch (e) {
      const error = errorMessage(e)
      return refs.map((f) => (fresh.includes(f) ? ({ ...f, error } as StateFileRef) : f))
    }
  }

  /**
   * A checkpoint is complete: copies of checkpoints the bucket no longer keeps go, in the background, one
   * removal at a time (a failure only leaves them for the next one).
   * @example own.committed()
   */
  committed(): void {
    if (!this.copies) return
    this.retention = this.retention.then(() => this.storage.retainLocalCopies(RETAINED)).catch(() => undefined)
  }

  /**
   * Waits for removals under way and closes the connection to the store.
   * @example await own.close()
   */
  async close(): Promise<void> {
    await this.retention
    await this.storage.release()
  }
}
