import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../core/errors.ts'
import type { StateFileRef } from './manifest.ts'
import { objectSavepointStaging, putSavepointFiles, savepointStagingPrefix } from './object-savepoint.ts'
import type { S3Connection } from './s3-location.ts'

/**
 * The state files one process writes for a savepoint into a bucket that another process coordinates (the Kafka
 * runner's threads 1..n-1, on this machine or another): staged in a folder of this process on this machine, and
 * uploaded under the savepoint's prefix by this process before its subtasks' acknowledgements go to the
 * coordinator, which lists them in the manifest it writes last. Nothing is kept once the savepoint is over:
 * a savepoint is never restored from local copies.
 * @example
 * const own = new OwnSavepointFiles()
 * const folder = own.staging('s3://state/savepoints/v2', 12) // subtasks write savepoint 12's files here
 * const refs = await own.store('s3://state/savepoints/v2', 12, files) // uploaded; `error` set on each file if that failed
 */
export class OwnSavepointFiles {
  private readonly conn: S3Connection
  /** The savepoint being taken: its id and staging folder (one at a time, as the coordinator takes them). */
  private current: { id: number; folder: string; failure?: unknown } | undefined

  constructor(conn: S3Connection = {}) {
    this.conn = conn
  }

  /**
   * Makes savepoint `id`'s staging folder on this machine ready, empty, and returns it; the previous
   * savepoint's folder goes. It never throws: a failure fails the savepoint's files when they are stored.
   */
  staging(target: string, id: number): string {
    this.clear()
    removeLeftBehind(savepointStagingPrefix(target))
    const folder = objectSavepointStaging(target, id)
    this.current = { id, folder }
    try {
      rmSync(folder, { recursive: true, force: true })
      mkdirSync(folder, { recursive: true })
    } catch (e) {
      this.current.failure = e
    }
    return folder
  }

  /**
   * Uploads the files of `refs` to `target` (a prefix that holds no manifest yet); returns `refs`, each file with
   * `error` set when that failed (the savepoint then fails, as for a file that could not be written).
   */
  async store(target: string, id: number, refs: StateFileRef[]): Promise<StateFileRef[]> {
    const fresh = refs.filter((f) => f.checkpoint === undefined && (f as { error?: string }).error === undefined)
    if (fresh.length === 0) return refs
    try {
      const c = this.current
      if (c === undefined || c.id !== id) throw new Error(`savepoint ${id} was not staged by this process`)
      if (c.failure !== undefined) throw c.failure
      await putSavepointFiles(target, fresh.map((f) => ({ name: f.file, path: join(c.folder, f.file), bytes: f.bytes })), this.conn)
      return refs
    } catch (e) {
      const error = errorMessage(e)
      return refs.map((f) => (fresh.includes(f) ? ({ ...f, error } as StateFileRef) : f))
    }
  }

  /** Removes the staging folder of the savepoint last taken (its files are uploaded, or the savepoint failed). */
  clear(): void {
    if (this.current === undefined) return
    rmSync(this.current.folder, { recursive: true, force: true })
    this.current = undefined
  }
}

/** Removes staging folders `<prefix><pid>…` of processes that no longer run (a process killed during a savepoint). */
function removeLeftBehind(prefix: string): void {
  let names: string[]
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(prefix) && n.endsWith('.staging.tmp'))
  } catch {
    return
  }
  for (const n of names) {
    const pid = Number(/^(\d+)[-.]/.exec(n.slice(prefix.length))?.[1])
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue
    rmSync(join(tmpdir(), n), { recursive: true, force: true })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
