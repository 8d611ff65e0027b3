import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { failpoint } from '../core/failpoints.ts'
import type { SinkWriter } from '../core/sink.ts'
import type { SourceRunner } from '../runtime/source-runner.ts'
import type { TaskGraph } from '../runtime/task-graph.ts'
import type { Vertex } from '../runtime/vertex.ts'
import { checkCompatibility, DEAD_LETTERS } from './compatibility.ts'
import type { CheckpointStats, Manifest } from './manifest.ts'
import { CheckpointStorage, readCheckpointFolder, writeCheckpointFolder, type CheckpointRead, type StateFileOut } from './storage.ts'

export interface CheckpointConfig {
  /** Folder of this pipeline's checkpoints. */
  dir: string
  /** Time between checkpoints in ms; 0 takes them only at the end of input and on stop. */
  intervalMs: number
  /** Complete checkpoints to keep. Default 3. */
  retain?: number
  /** Checkpoints that may fail in a row before the job fails. Default 3. */
  tolerableFailures?: number
  /** Restore from this checkpoint or savepoint folder instead of the latest checkpoint in `dir`. */
  restoreFrom?: string
  /** Restore even if some saved state has no matching step (that state is dropped). */
  allowDroppedState?: boolean
  /**
   * Incremental checkpoints (default true): steps that support it (regular joins, keyed aggregates) write
   * only the keys changed since the previous checkpoint, and the checkpoint lists the earlier files it builds
   * on. A full checkpoint is taken first, after a restore or a failed checkpoint, after `maxDeltas` deltas, and once
   * the deltas outgrow their base. Savepoints are always full. Single-thread runs only.
   */
  incremental?: boolean
  /** Incremental checkpoints: deltas after which a full checkpoint is taken (default 10); a restore reads at most this many. */
  maxDeltas?: number
  /** Where warnings go (default console.warn). */
  warn?: (msg: string) => void
}

export interface CheckpointReport {
  completed: number
  failed: number
  /** Of those completed, the incremental ones (deltas). */
  deltas: number
  restoredFrom: number | null
  /** Time to read, verify and restore the checkpoint restored from, in ms. */
  restoreMs: number | null
  last: CheckpointStats | null
}

export type CheckpointSnapshot = CheckpointRead

/** Something that commits with checkpoints: a sink, or the dead-letter writer. */
export interface Participant {
  step: string
  /** The sink step's kind (sink-jsonl), recorded in the manifest for the compatibility check. */
  kind?: string
  writer: Pick<SinkWriter<unknown>, 'preCommit' | 'commit' | 'recover' | 'onCheckpointComplete'>
}


/**
 * What single-thread and parallel checkpoint coordinators share: the schedule, finding and checking what to
 * restore, the sinks' two-phase commit (a checkpoint that never completes leaves its handles for the next),
 * writing in the background with one checkpoint in flight, and counting failures.
 */
export class CoordinatorBase {
  protected readonly graph: TaskGraph
  protected readonly runners: SourceRunner[]
  protected readonly config: Required<Omit<CheckpointConfig, 'restoreFrom'>> & { restoreFrom?: string }
  protected readonly storage: CheckpointStorage
  protected readonly pipeline: string
  protected nextId = 1
  private nextAt: number
  private inFlight: Promise<void> | undefined
  private failure: SluiceError | undefined
  private failedInRow = 0
  private lastError: unknown
  /** Set when a checkpoint fails: changes taken into its deltas are in no checkpoint, so the next must be full. */
  protected lastFailed = false
  /** Per participant: handles pre-committed but not yet committed, oldest first. */
  private readonly uncommitted = new Map<string, { checkpointId: number; handle: unknown }[]>()
  readonly report: CheckpointReport = { completed: 0, failed: 0, deltas: 0, restoredFrom: null, restoreMs: null, last: null }
  private restoreStarted = 0

  constructor(pipeline: string, graph: TaskGraph, runners: SourceRunner[], config: CheckpointConfig, now: number) {
    this.pipeline = pipeline
    this.graph = graph
    this.runners = runners
    this.config = { retain: 3, tolerableFailures: 3, allowDroppedState: false, incremental: true, maxDeltas: 10, warn: (m) => console.warn(m), ...config }
    this.storage = new CheckpointStorage(config.dir)
    this.nextAt = config.intervalMs > 0 ? now + config.intervalMs : Infinity
  }

  /** Everything that commits with a checkpoint: the sinks, and the dead-letter writer if the pipeline has one. */
  protected participants(): Participant[] {
    const sinks = this.graph.vertices.filter((v): v is Vertex => v?.sink !== undefined).map((v) => ({ step: v.plan.id, kind: v.plan.steps[0].kind, writer: v.sink! }))
    const dl = this.graph.errors.deadLetters
    return dl === undefined ? sinks : [...sinks, { step: DEAD_LETTERS, writer: dl }]
  }

  /**
   * The checkpoint to restore (the latest complete one, or `restoreFrom`), checked against the pipeline, with
   * the steps whose state is dropped. Without one, every participant recovers with nothing and this is undefined.
   */
  protected async findRestore(): Promise<{ snap: CheckpointSnapshot; dropped: Set<string> } | undefined> {
    this.restoreStarted = performance.now()
    await this.storage.retain(Number.MAX_SAFE_INTEGER)
    // New checkpoints take ids above every folder present, also unreadable ones newer than the one restored:
    // reusing such an id would make the checkpoint fail to move into place.
    this.nextId = ((await this.storage.ids())[0] ?? 0) + 1
    const snap = this.config.restoreFrom !== undefined ? await readCheckpointFolder(this.config.restoreFrom) : await this.storage.latest(this.config.warn)
    if (snap === undefined) {
      for (const { writer } of this.participants()) await writer.recover?.([])
      return undefined
    }
    const m = snap.manifest
    if (m.pipeline !== this.pipeline) {
      throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `the checkpoint belongs to pipeline '${m.pipeline}', not '${this.pipeline}'`, { hint: 'use another --checkpoint-dir' })
    }
    const dropped = checkCompatibility(m, this.graph, this.runners, this.config.allowDroppedState, this.config.warn)
    m.sinks = m.sinks.filter((s) => !dropped.has(s.step))
    for (const s of m.sources) {
      const r = this.runners.find((x) => x.vertex.plan.id === s.step)
      if (r !== undefined && !dropped.has(s.step)) await r.restore(s.state)
    }
    return { snap, dropped }
  }

  /** Restores a main-thread vertex's watermarks. */
  protected static restoreWatermarks(v: Vertex, w: Manifest['vertices'][number]): void {
    v.watermark = w.watermark
    v.forwarded = w.forwarded
    w.inputs.forEach((x, i) => {
      if (i < v.inWm.length) v.inWm[i] = x
    })
  }

  /** Ends a restore: step counters as of the checkpoint, participants recover, ids continue after it. */
  protected async finishRestore(m: Manifest): Promise<void> {
    for (const x of m.metrics) {
      const mt = this.graph.metrics.get(x.step)
      if (mt === undefined) continue
      mt.recordsIn = x.in
      mt.recordsOut = x.out
      mt.late = x.late
      mt.errors = x.errors
      mt.dropped = x.dropped
    }
    for (const { step, writer } of this.participants()) {
      // Sinks run as subtask 0 here: every handle is that subtask's.
      const pending = m.sinks.find((s) => s.step === step)?.pending ?? []
      await writer.recover?.(pending.map((p) => ({ subtask: 0, checkpointId: p.checkpointId, handle: p.handle })))
    }
    this.nextId = Math.max(this.nextId, m.id + 1)
    this.report.restoredFrom = m.id
    this.report.restoreMs = performance.now() - this.restoreStarted
  }

  /**
   * True when the interval has passed and the previous checkpoint is written (throws if checkpoints failed too
   * often): a periodic checkpoint never makes processing wait for the disk.
   */
  due(now: number): boolean {
    if (this.failure !== undefined) throw this.failure
    return now >= this.nextAt && this.inFlight === undefined
  }

  /** Waits for the previous checkpoint, checks the savepoint folder, and returns the new checkpoint's id. */
  protected async begin(now: number, savepointDir: string | undefined): Promise<number> {
    if (this.inFlight !== undefined) await this.inFlight
    if (this.failure !== undefined) throw this.failure
    if (savepointDir !== undefined && existsSync(savepointDir)) {
      throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${savepointDir}' already exists`, { hint: 'choose a new folder for each savepoint' })
    }
    this.nextAt = this.config.intervalMs > 0 ? now + this.config.intervalMs : Infinity
    return this.nextId++
  }

  /** Phase one of one participant at the barrier; returns its manifest entry (with earlier handles not yet committed). */
  protected async preCommitOne(p: Participant, id: number): Promise<Manifest['sinks'][number]> {
    const list = this.uncommitted.get(p.step) ?? []
    if (p.writer.preCommit !== undefined) list.push({ checkpointId: id, handle: await p.writer.preCommit(id) })
    this.uncommitted.set(p.step, list)
    return { step: p.step, ...(p.kind !== undefined ? { kind: p.kind } : {}), pending: list.slice() }
  }

  /** Phase one of every participant. */
  protected async preCommitAll(id: number): Promise<Manifest['sinks']> {
    const out: Manifest['sinks'] = []
    for (const p of this.participants()) out.push(await this.preCommitOne(p, id))
    return out
  }

  /** Writes the checkpoint (or savepoint) in the background, then commits participants up to it. */
  protected writeInBackground(manifest: Manifest, files: StateFileOut[], stats: CheckpointStats, savepointDir: string | undefined): void {
    const t1 = performance.now()
    const write = savepointDir === undefined ? this.storage.write(manifest, files) : writeSavepoint(savepointDir, manifest, files)
    this.inFlight = write
      .then(async (bytes) => {
        stats.bytes = bytes
        stats.asyncMs = performance.now() - t1
        failpoint('checkpoint-before-commit')
        await this.commitUpTo(manifest.id)
        failpoint('checkpoint-after-commit')
        this.failedInRow = 0
        this.report.completed++
        if (stats.delta === true) this.report.deltas++
        this.report.last = stats
        if (savepointDir === undefined) await this.storage.retain(this.config.retain)
      })
      .catch((e: unknown) => {
        this.report.failed++
        this.lastFailed = true
        this.failedInRow++
        this.lastError = e
        this.config.warn(`checkpoint ${manifest.id} of '${this.pipeline}' failed: ${errorMessage(e)}`)
        if (this.failedInRow > this.config.tolerableFailures) {
          this.failure = new SluiceError('SLUICE_CHECKPOINT_FAILED', `${this.failedInRow} checkpoints in a row failed; the last: ${errorMessage(e)}`, { domain: 'external', cause: e, hint: 'check the checkpoint folder (space, permissions)' })
        }
      })
      .finally(() => {
        this.inFlight = undefined
      })
  }

  private async commitUpTo(id: number): Promise<void> {
    for (const { step, writer } of this.participants()) {
      const list = this.uncommitted.get(step) ?? []
      while (list.length > 0 && list[0].checkpointId <= id) {
        const p = list.shift()!
        await writer.commit?.(p.checkpointId, p.handle)
        failpoint('sink-commit')
      }
      await writer.onCheckpointComplete?.(id)
    }
  }

  /** Waits until checkpoint `id` is written; throws why not if it failed. */
  async waitFor(id: number): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight
    if (this.report.last?.id !== id) throw this.lastError ?? new SluiceError('SLUICE_SAVEPOINT_FAILED', `savepoint ${id} failed`)
  }

  /** Waits for the checkpoint being written; throws if checkpoints failed too often. */
  async settle(): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight
    if (this.failure !== undefined) throw this.failure
  }
}

async function writeSavepoint(dir: string, manifest: Manifest, files: StateFileOut[]): Promise<number> {
  if (existsSync(dir)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${dir}' already exists`, { hint: 'choose a new folder for each savepoint' })
  await mkdir(dirname(resolve(dir)), { recursive: true })
  return writeCheckpointFolder(dir, manifest, files)
}
