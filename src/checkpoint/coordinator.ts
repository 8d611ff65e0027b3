import { decodeState, encodeState } from './state-file.ts'
import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { SinkWriter } from '../core/sink.ts'
import type { SourceRunner } from '../runtime/source-runner.ts'
import type { TaskGraph } from '../runtime/task-graph.ts'
import type { Vertex } from '../runtime/vertex.ts'
import type { CheckpointStats, Manifest, OperatorEntry } from './manifest.ts'
import { MANIFEST_FORMAT } from './manifest.ts'
import { CheckpointStorage, readCheckpointFolder, sha256, writeCheckpointFolder } from './storage.ts'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { checkCompatibility } from './compatibility.ts'
import { isKeyedSnapshot, redistributeKeyed } from './redistribute.ts'
import { failpoint } from '../core/failpoints.ts'

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
  /** Where warnings go (default console.warn). */
  warn?: (msg: string) => void
}

export interface CheckpointReport {
  completed: number
  failed: number
  restoredFrom: number | null
  last: CheckpointStats | null
}

type Snapshot = { manifest: Manifest; file(name: string): Uint8Array }

/** The manifest's name for the dead-letter writer among the sinks. */
const DEAD_LETTERS = '$dead-letters'

/**
 * Takes checkpoints of a pipeline running in this thread and restores from them. Between two source batches
 * every step has processed everything it was given, so a barrier injected at all sources at once is aligned
 * at every step as it passes: the snapshot is taken right there, copied, and written while processing goes on.
 * Sinks pre-commit at the barrier and commit once the manifest is durably written.
 */
export class CheckpointCoordinator {
  private readonly graph: TaskGraph
  private readonly runners: SourceRunner[]
  private readonly config: Required<Omit<CheckpointConfig, 'restoreFrom'>> & { restoreFrom?: string }
  private readonly storage: CheckpointStorage
  private readonly pipeline: string
  private nextId = 1
  private nextAt: number
  private inFlight: Promise<void> | undefined
  private failure: SluiceError | undefined
  private failedInRow = 0
  private lastError: unknown
  /** Per sink step: handles pre-committed but not yet committed, oldest first. */
  private readonly uncommitted = new Map<string, { checkpointId: number; handle: unknown }[]>()
  readonly report: CheckpointReport = { completed: 0, failed: 0, restoredFrom: null, last: null }

  constructor(pipeline: string, graph: TaskGraph, runners: SourceRunner[], config: CheckpointConfig, now: number) {
    this.pipeline = pipeline
    this.graph = graph
    this.runners = runners
    this.config = { retain: 3, tolerableFailures: 3, allowDroppedState: false, warn: (m) => console.warn(m), ...config }
    this.storage = new CheckpointStorage(config.dir)
    this.nextAt = config.intervalMs > 0 ? now + config.intervalMs : Infinity
  }

  /** Everything that commits with a checkpoint: the sinks, and the dead-letter writer if the pipeline has one. */
  private participants(): { step: string; writer: Pick<SinkWriter<unknown>, 'preCommit' | 'commit' | 'recover'> }[] {
    const sinks = this.graph.vertices.filter((v): v is Vertex => v?.sink !== undefined).map((v) => ({ step: v.plan.id, writer: v.sink! }))
    const dl = this.graph.errors.deadLetters
    return dl === undefined ? sinks : [...sinks, { step: DEAD_LETTERS, writer: dl }]
  }

  /** Restores the latest complete checkpoint (or `restoreFrom`); sinks recover either way. Returns the id restored. */
  async restore(): Promise<number | undefined> {
    await this.storage.retain(Number.MAX_SAFE_INTEGER)
    const snap: Snapshot | undefined = this.config.restoreFrom !== undefined ? await readCheckpointFolder(this.config.restoreFrom) : await this.storage.latest(this.config.warn)
    if (snap === undefined) {
      for (const { writer } of this.participants()) await writer.recover?.(undefined)
      return undefined
    }
    const m = snap.manifest
    if (m.pipeline !== this.pipeline) {
      throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `the checkpoint belongs to pipeline '${m.pipeline}', not '${this.pipeline}'`, { hint: 'use another --checkpoint-dir' })
    }
    const dropped = checkCompatibility(m, this.graph, this.runners, this.config.allowDroppedState, this.config.warn)
    const byId = new Map(this.graph.vertices.filter((v): v is Vertex => v !== undefined).map((v) => [v.plan.id, v]))
    for (const s of m.sources) {
      const r = this.runners.find((x) => x.vertex.plan.id === s.step)
      if (r !== undefined && !dropped.has(s.step)) await r.restore(s.state)
    }
    for (const op of m.operators) {
      const v = byId.get(op.step)
      if (v?.operator?.restore === undefined || dropped.has(op.step)) continue
      const states = op.files.map((f) => decodeState(snap.file(f.file)))
      v.operator.restore(op.keyed && states.every(isKeyedSnapshot) ? redistributeKeyed(states, 1, m.keyGroups)[0] : states[0])
    }
    for (const w of m.vertices) {
      const v = byId.get(w.id)
      if (v === undefined) continue
      v.watermark = w.watermark
      v.forwarded = w.forwarded
      w.inputs.forEach((x, i) => {
        if (i < v.inWm.length) v.inWm[i] = x
      })
    }
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
      const pending = m.sinks.find((s) => s.step === step)?.pending ?? []
      for (const p of pending.slice(0, -1)) await writer.commit?.(p.checkpointId, p.handle)
      await writer.recover?.(pending.length > 0 ? pending[pending.length - 1] : undefined)
    }
    this.nextId = m.id + 1
    this.report.restoredFrom = m.id
    return m.id
  }

  /** True when the interval has passed and the previous checkpoint is written (one in flight at a time; processing never waits for one). */
  due(now: number): boolean {
    if (this.failure !== undefined) throw this.failure
    return now >= this.nextAt && this.inFlight === undefined
  }

  /**
   * Takes a checkpoint: waits for source reads in flight, snapshots every step, pre-commits sinks; then
   * writes in the background. With `savepointDir`, writes a self-contained savepoint there instead.
   */
  async trigger(now: number, savepointDir?: string): Promise<CheckpointStats> {
    if (this.inFlight !== undefined) await this.inFlight
    if (this.failure !== undefined) throw this.failure
    this.nextAt = this.config.intervalMs > 0 ? now + this.config.intervalMs : Infinity
    const id = this.nextId++
    const t0 = performance.now()
    for (const r of this.runners) await r.quiesce()
    this.graph.flushErrors()
    if (this.graph.pendingWrites.length > 0) await Promise.all(this.graph.pendingWrites.splice(0))
    const files: { name: string; data: Uint8Array }[] = []
    const operators: OperatorEntry[] = []
    for (const v of this.graph.vertices) {
      if (v?.operator?.snapshot === undefined) continue
      const state = v.operator.snapshot()
      if (state === undefined) continue
      const data = encodeState(state)
      const name = `${v.plan.id}.0.state`
      files.push({ name, data })
      const step = v.plan.steps[0]
      operators.push({ step: v.plan.id, kind: step.kind, keyed: v.plan.keyed, descriptor: step.describe, files: [{ subtask: 0, file: name, bytes: data.byteLength, sha256: sha256(data) }] })
    }
    const sinks: Manifest['sinks'] = []
    for (const { step, writer } of this.participants()) {
      const list = this.uncommitted.get(step) ?? []
      if (writer.preCommit !== undefined) list.push({ checkpointId: id, handle: await writer.preCommit(id) })
      this.uncommitted.set(step, list)
      sinks.push({ step, pending: list.slice() })
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      kind: savepointDir === undefined ? 'checkpoint' : 'savepoint',
      id,
      pipeline: this.pipeline,
      createdAt: new Date().toISOString(),
      parallelism: 1,
      keyGroups: DEFAULT_KEY_GROUPS,
      sources: this.runners.map((r) => ({ step: r.vertex.plan.id, kind: r.source.kind, state: r.snapshot() })),
      operators,
      sinks,
      vertices: this.graph.vertices.filter((v): v is Vertex => v !== undefined).map((v) => ({ id: v.plan.id, watermark: v.watermark, forwarded: v.forwarded, inputs: v.inWm.slice() })),
      metrics: this.graph.stepMetrics(),
    }
    const syncMs = performance.now() - t0
    const stats: CheckpointStats = { id, bytes: 0, syncMs, asyncMs: 0, alignmentMs: 0 }
    const t1 = performance.now()
    this.inFlight = (savepointDir === undefined ? this.storage.write(manifest, files) : writeSavepoint(savepointDir, manifest, files))
      .then(async (bytes) => {
        stats.bytes = bytes
        stats.asyncMs = performance.now() - t1
        failpoint('checkpoint-before-commit')
        await this.commitUpTo(id)
        failpoint('checkpoint-after-commit')
        this.failedInRow = 0
        this.report.completed++
        this.report.last = stats
        if (savepointDir === undefined) await this.storage.retain(this.config.retain)
      })
      .catch((e: unknown) => {
        this.report.failed++
        this.failedInRow++
        this.lastError = e
        this.config.warn(`checkpoint ${id} of '${this.pipeline}' failed: ${errorMessage(e)}`)
        if (this.failedInRow > this.config.tolerableFailures) {
          this.failure = new SluiceError('SLUICE_CHECKPOINT_FAILED', `${this.failedInRow} checkpoints in a row failed; the last: ${errorMessage(e)}`, { domain: 'external', cause: e, hint: 'check the checkpoint folder (space, permissions)' })
        }
      })
      .finally(() => {
        this.inFlight = undefined
      })
    return stats
  }

  private async commitUpTo(id: number): Promise<void> {
    for (const { step, writer } of this.participants()) {
      const list = this.uncommitted.get(step) ?? []
      while (list.length > 0 && list[0].checkpointId <= id) {
        const p = list.shift()!
        await writer.commit?.(p.checkpointId, p.handle)
        failpoint('sink-commit')
      }
    }
  }

  /** Takes a savepoint into `dir` and waits until it is durably written (or throws why not). */
  async savepoint(now: number, dir: string): Promise<CheckpointStats> {
    const stats = await this.trigger(now, dir)
    if (this.inFlight !== undefined) await this.inFlight
    if (this.report.last?.id !== stats.id) throw this.lastError ?? new SluiceError('SLUICE_SAVEPOINT_FAILED', `savepoint ${stats.id} failed`)
    return stats
  }

  /** Waits for the checkpoint being written; throws if checkpoints failed too often. */
  async settle(): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight
    if (this.failure !== undefined) throw this.failure
  }
}

async function writeSavepoint(dir: string, manifest: Manifest, files: { name: string; data: Uint8Array }[]): Promise<number> {
  if (existsSync(dir)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${dir}' already exists`, { hint: 'choose a new folder for each savepoint' })
  await mkdir(dirname(resolve(dir)), { recursive: true })
  return writeCheckpointFolder(dir, manifest, files)
}

export type { SinkWriter }
