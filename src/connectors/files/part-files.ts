import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { SinkContext } from '../../core/sink.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from '../../checkpoint/two-phase-commit.ts'

/** Where the sink keeps files that are not visible yet, inside its output folder. */
export const STAGING_DIR = '.sluice-staging'

/** One transaction of part files: a pending file and its committed name, relative to the folder. */
export interface PartFile {
  pending: string
  final: string
}

/** Buffered text is written out once it holds this many characters (or bytes). */
const FLUSH_CHARS = 1 << 20

/** What a sink other than jsonl sets: the committed files' extension and the sink's name in messages. */
export interface PartFilesOptions {
  /** Extension of committed parts, without the dot. Default 'jsonl'. */
  ext?: string
  /** The sink's name in error messages. Default 'sink.jsonl'. */
  sink?: string
}

/**
 * A folder of part files, one writer per subtask (the scheme of Flink's FileSink), committed through
 * `TwoPhaseCommit`; the transactions are files:
 * - records go to `<dir>/.sluice-staging/part-<subtask>.inprogress`, created at the first record after a
 *   checkpoint;
 * - pre-commit at checkpoint n writes it out, fsyncs and closes it, and renames it `part-<subtask>-<n>.pending`;
 * - commit renames the pending file to `<dir>/part-<subtask>-<n>.<ext>`: the visible output (a file
 *   renamed already is fine);
 * - abort, on restart, deletes the staged and pending files of the old subtasks this one inherits
 *   (`j % parallelism === subtask`), and their committed parts of checkpoints after the restored one (all of
 *   them on a fresh start: a fresh run replaces the folder's parts).
 * A checkpoint that never completes leaves its pending file for the next checkpoint's handle to commit.
 */
export class PartFiles implements Transactions<PartFile> {
  private readonly dir: string
  private readonly staging: string
  private readonly subtask: number
  private readonly step: string
  private readonly ext: string
  private readonly sink: string
  private fh: FileHandle | undefined
  private buffered = ''
  /** Binary writes (see `write`), in order with `buffered` text: text is moved here before bytes are added. */
  private chunks: Uint8Array[] = []
  private chunkBytes = 0
  private writing: Promise<void> = Promise.resolve()
  private failure: unknown
  /** Bytes written to part files so far (the sink's bytesOut metric). */
  bytesWritten = 0
  /** The sink's two-phase commit over these files: its writer's preCommit, commit and recover. */
  readonly tpc: TwoPhaseCommit<PartFile>

  constructor(dir: string, ctx: Pick<SinkContext, 'subtask' | 'parallelism' | 'stepId'>, options: PartFilesOptions = {}) {
    this.ext = options.ext ?? 'jsonl'
    this.sink = options.sink ?? 'sink.jsonl'
    this.dir = dir
    this.staging = join(dir, STAGING_DIR)
    this.subtask = ctx.subtask
    this.step = ctx.stepId
    this.tpc = new TwoPhaseCommit(this, ctx, this.sink)
  }

  /** Creates the folders; the output path must be a folder (or not exist). */
  async open(): Promise<void> {
    const st = await stat(this.dir).catch(() => undefined)
    if (st !== undefined && !st.isDirectory()) {
      throw new SluiceError('SLUICE_SINK_FAILED', `${this.sink}: '${this.dir}' is a file; the sink writes a folder of part files there`, {
        domain: 'user',
        step: this.step,
        hint: 'remove the file, or give the sink a folder path',
      })
    }
    await this.io('create', this.staging, () => mkdir(this.staging, { recursive: true }))
  }

  private get inprogressName(): string {
    return `part-${this.subtask}.inprogress`
  }

  /** Appends text, or bytes (a binary format's encoded output; the array must not be reused by the caller). */
  write(data: string | Uint8Array): void | Promise<void> {
    this.fail()
    if (!this.tpc.recovered) return this.tpc.ensureRecovered().then(() => this.write(data))
    if (typeof data === 'string') {
      this.buffered += data
    } else {
      if (this.buffered !== '') this.moveText()
      this.chunks.push(data)
      this.chunkBytes += data.byteLength
    }
    if (this.buffered.length + this.chunkBytes >= FLUSH_CHARS) return this.flush()
  }

  private moveText(): void {
    const bytes = Buffer.from(this.buffered)
    this.buffered = ''
    this.chunks.push(bytes)
    this.chunkBytes += bytes.byteLength
  }

  /** Writes out the buffer (in order with earlier writes). */
  private flush(): Promise<void> {
    if (this.chunks.length > 0 && this.buffered !== '') this.moveText()
    const data: string | Uint8Array = this.chunks.length === 0 ? this.buffered : this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    this.buffered = ''
    this.chunks = []
    this.chunkBytes = 0
    if (data.length === 0) return this.writing
    this.writing = this.writing.then(async () => {
      this.fail()
      try {
        this.fh ??= await open(join(this.staging, this.inprogressName), 'w')
        await this.fh.writeFile(data)
        this.bytesWritten += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
      } catch (e) {
        this.failure ??= e
        this.fail()
      }
    })
    return this.writing
  }

  async preCommit(checkpointId: number): Promise<PartFile | undefined> {
    await this.flush()
    this.fail()
    const fh = this.fh
    if (fh === undefined) return undefined
    this.fh = undefined
    const name = `part-${this.subtask}-${checkpointId}`
    const pending = `${STAGING_DIR}/${name}.pending`
    await this.io('write', join(this.staging, this.inprogressName), async () => {
      await fh.sync()
      await fh.close()
      await rename(join(this.staging, this.inprogressName), join(this.dir, pending))
    })
    await this.io('sync', this.staging, () => syncDir(this.staging))
    return { pending, final: `${name}.${this.ext}` }
  }

  async commit(f: PartFile): Promise<void> {
    await this.io('commit', f.pending, async () => {
      try {
        await rename(join(this.dir, f.pending), join(this.dir, f.final))
      } catch (e) {
        if (!isNotFound(e)) throw e
        // Renamed by an earlier commit of the same checkpoint: nothing to do.
        if ((await stat(join(this.dir, f.final)).catch(() => undefined)) === undefined) {
          throw new SluiceError('SLUICE_SINK_COMMIT_FAILED', `${this.sink}: the pre-committed file '${f.pending}' in '${this.dir}' is missing and was not committed`, {
            domain: 'external',
            step: this.step,
            hint: 'something removed the staging folder; the data of that checkpoint is lost',
          })
        }
      }
    })
    await this.io('sync', this.dir, () => syncDir(this.dir))
  }

  async abort(scope: AbortScope): Promise<void> {
    const staged = /^part-(\d+)(?:-\d+)?\.(?:inprogress|pending)$/
    for (const name of await this.io('list', this.staging, () => readdir(this.staging))) {
      const m = staged.exec(name)
      if (m !== null && scope.owns(Number(m[1]))) await this.io('delete', name, () => rm(join(this.staging, name), { force: true }))
    }
    const after = scope.after ?? -Infinity
    const committed = new RegExp(`^part-(\\d+)-(\\d+)\\.${this.ext}$`)
    for (const name of await this.io('list', this.dir, () => readdir(this.dir))) {
      const m = committed.exec(name)
      if (m !== null && scope.owns(Number(m[1])) && Number(m[2]) > after) await this.io('delete', name, () => rm(join(this.dir, name), { force: true }))
    }
    await this.io('sync', this.dir, async () => {
      await syncDir(this.staging)
      await syncDir(this.dir)
    })
  }

  legacy(handle: unknown): unknown[] | undefined {
    const files = (handle as { files?: unknown } | null)?.files
    return Array.isArray(files) ? files : undefined
  }

  check(txn: unknown): PartFile {
    const f = txn as PartFile | null
    const safe = (s: unknown) => typeof s === 'string' && s !== '' && !s.includes('..')
    if (typeof f !== 'object' || f === null || !safe(f.pending) || !safe(f.final)) {
      throw new SluiceError('SLUICE_BAD_POSITION', `${this.sink}: a transaction in the checkpoint handle must be { pending, final }`, { domain: 'internal', step: this.step })
    }
    return f
  }

  /** Input ended. Data written since the last checkpoint stays staged (see jsonl sink's notes). */
  async close(): Promise<void> {
    await this.flush()
    const fh = this.fh
    this.fh = undefined
    await fh?.close()
    this.fail()
  }

  private fail(): void {
    if (this.failure !== undefined) {
      throw new SluiceError('SLUICE_SINK_FAILED', `cannot write in '${this.dir}': ${errorMessage(this.failure)}`, { domain: 'external', retryable: true, step: this.step, cause: this.failure })
    }
  }

  private async io<R>(doing: string, what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_SINK_FAILED', `${this.sink}: cannot ${doing} '${what}' in '${this.dir}': ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.step, cause: e })
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}

/**
 * The committed part files of a jsonl sink's output folder, in output order (by checkpoint, then
 * subtask): what a reader of a checkpointed run's output reads.
 */
export async function committedParts(dir: string, ext = 'jsonl'): Promise<string[]> {
  const parts: { name: string; checkpoint: number; subtask: number }[] = []
  for (const name of await readdir(dir)) {
    const m = new RegExp(`^part-(\\d+)-(\\d+)\\.${ext}$`).exec(name)
    if (m !== null) parts.push({ name, subtask: Number(m[1]), checkpoint: Number(m[2]) })
  }
  parts.sort((a, b) => a.checkpoint - b.checkpoint || a.subtask - b.subtask)
  return parts.map((p) => join(dir, p.name))
}
