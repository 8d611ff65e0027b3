import { deserialize } from 'node:v8'
import { SluiceError } from '../core/errors.ts'
import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import type { StepMetricsJson } from '../core/metrics.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import type { SourceRunner } from '../runtime/source-runner.ts'
import type { TaskGraph } from '../runtime/task-graph.ts'
import type { Vertex } from '../runtime/vertex.ts'
import { CoordinatorBase, type CheckpointConfig, type Participant } from './coordinator-base.ts'
import type { CheckpointStats, Manifest, OperatorEntry } from './manifest.ts'
import { MANIFEST_FORMAT } from './manifest.ts'
import { operatorStates } from './incremental.ts'
import { isKeyedSnapshot, redistributeKeyed } from './redistribute.ts'
import { decodeState, encodeState } from './state-file.ts'
import { sha256 } from './storage.ts'

/** A vertex's watermarks at the barrier. */
export interface SavedWatermarks {
  watermark: number
  forwarded: number
  inputs: number[]
}

/** Records in flight between threads at the barrier (held for watermark alignment), per input of a vertex. */
export interface ChannelState {
  /** Step id of the vertex the records go to, and which of its inputs. */
  to: string
  input: number
  /** v8-serialized `{ level, item }[]`, base64. */
  data: string
}

/** What a parallel run restores: per subtask the state and watermarks of each parallel vertex, and records in flight. */
export interface ParallelRestore {
  id: number
  subtasks: { v: number; state?: unknown; wm?: SavedWatermarks }[][]
  channels: { to: number; input: number; held: { level: number; item: unknown }[] }[]
}

/**
 * The parts of one checkpoint of a parallel run as they come in: sources and main-thread vertices on the
 * main thread, each subtask's vertices from the workers, sink pre-commits. Sizes, times and watermarks are
 * combined over subtasks.
 */
export class PendingCheckpoint {
  readonly id: number
  readonly savepointDir: string | undefined
  readonly startedAt = performance.now()
  readonly createdAt = new Date().toISOString()
  readonly files: { name: string; data: Uint8Array }[] = []
  readonly operators = new Map<string, OperatorEntry>()
  readonly sources: Manifest['sources'] = []
  readonly sinks: Manifest['sinks'] = []
  readonly channels: ChannelState[] = []
  private readonly wms = new Map<string, SavedWatermarks>()
  private readonly metrics = new Map<string, StepMetricsJson>()
  /** Time the main thread spent taking its part (processing stops for it). */
  syncMs = 0
  /** Per subtask: time spent copying its state. */
  readonly subtaskMs: number[]
  alignmentMs = 0

  constructor(id: number, savepointDir: string | undefined, parallelism: number, base: StepMetricsJson[]) {
    this.id = id
    this.savepointDir = savepointDir
    this.subtaskMs = new Array<number>(parallelism).fill(0)
    for (const m of base) this.metrics.set(m.step, { ...m })
  }

  /** The state of vertex `v` at subtask `subtask` (encoded now: the snapshot may share live state, which changes after this call). */
  addState(v: Vertex['plan'], subtask: number, state: unknown): void {
    if (state !== undefined) this.addStateFiles(v, subtask, encodeState(state))
  }

  /** The state of vertex `v` at subtask `subtask`, already encoded as state files (by the worker). */
  addStateFiles(v: Vertex['plan'], subtask: number, parts: Uint8Array[]): void {
    const step = v.steps[0]
    let e = this.operators.get(v.id)
    if (e === undefined) this.operators.set(v.id, (e = { step: v.id, kind: step.kind, keyed: v.keyed, descriptor: step.describe, files: [] }))
    parts.forEach((data, part) => {
      const name = `${v.id}.${subtask}.${part}.state`
      this.files.push({ name, data })
      e.files.push({ subtask, file: name, bytes: data.byteLength, sha256: sha256(data) })
    })
  }

  /** Watermarks of a vertex; over several subtasks, the lowest. */
  addWatermarks(id: string, wm: SavedWatermarks): void {
    const had = this.wms.get(id)
    if (had === undefined) {
      this.wms.set(id, { watermark: wm.watermark, forwarded: wm.forwarded, inputs: wm.inputs.slice() })
      return
    }
    had.watermark = Math.min(had.watermark, wm.watermark)
    had.forwarded = Math.min(had.forwarded, wm.forwarded)
    had.inputs = had.inputs.map((x, i) => Math.min(x, wm.inputs[i] ?? x))
  }

  /** Counters of a step at one subtask (or the main thread), added up over subtasks. */
  addMetrics(m: StepMetricsJson): void {
    const had = this.metrics.get(m.step)
    if (had === undefined) {
      this.metrics.set(m.step, { ...m })
      return
    }
    had.in += m.in
    had.out += m.out
    had.late += m.late
    had.errors += m.errors
    had.dropped += m.dropped
  }

  manifest(pipeline: string, parallelism: number): Manifest {
    for (const e of this.operators.values()) e.files.sort((a, b) => a.subtask - b.subtask)
    const m: Manifest = {
      format: MANIFEST_FORMAT,
      kind: this.savepointDir === undefined ? 'checkpoint' : 'savepoint',
      id: this.id,
      pipeline,
      createdAt: this.createdAt,
      parallelism,
      keyGroups: DEFAULT_KEY_GROUPS,
      sources: this.sources,
      operators: [...this.operators.values()],
      sinks: this.sinks,
      vertices: [...this.wms].map(([id, w]) => ({ id, ...w })),
      metrics: [...this.metrics.values()].map((x) => ({ step: x.step, in: x.in, out: x.out, late: x.late, errors: x.errors, dropped: x.dropped })),
    }
    if (this.channels.length > 0) m.channels = this.channels
    return m
  }
}

/**
 * Checkpoints of a run whose keyed steps run as N subtasks on worker threads. The main thread (see the parallel
 * runner) injects barriers at the sources and collects every part; this class restores, numbers checkpoints,
 * writes each complete one (a state file per vertex per subtask, `<step>.<subtask>.state`, then the manifest,
 * with the same storage as single-thread runs) while processing goes on, and commits sinks once it is durable.
 * Restoring at another parallelism redistributes each keyed step's state by key group.
 */
export class ParallelCheckpointCoordinator extends CoordinatorBase {
  private readonly n: number
  private readonly isParallel: (vertexIndex: number) => boolean

  constructor(pipeline: string, graph: TaskGraph, runners: SourceRunner[], config: CheckpointConfig, now: number, parallelism: number, isParallel: (vertexIndex: number) => boolean) {
    super(pipeline, graph, runners, config, now)
    this.n = parallelism
    this.isParallel = isParallel
  }

  /**
   * Restores the latest complete checkpoint (or `restoreFrom`): sources seek, main-thread steps restore, sinks
   * recover (they recover with nothing to restore too). Returns what the workers restore, or undefined.
   */
  async restore(): Promise<ParallelRestore | undefined> {
    const found = await this.findRestore()
    if (found === undefined) return undefined
    const { snap, dropped } = found
    const m = snap.manifest
    const plan = this.graph.plan
    const indexOf = new Map(plan.vertices.map((v) => [v.id, v.index]))
    const out: ParallelRestore = { id: m.id, subtasks: Array.from({ length: this.n }, () => []), channels: [] }
    const forSubtask: Map<number, { v: number; state?: unknown; wm?: SavedWatermarks }>[] = Array.from({ length: this.n }, () => new Map())
    const entry = (sub: number, v: number) => {
      let e = forSubtask[sub].get(v)
      if (e === undefined) forSubtask[sub].set(v, (e = { v }))
      return e
    }
    for (const op of m.operators) {
      const index = indexOf.get(op.step)
      if (index === undefined || dropped.has(op.step)) continue
      // A checkpoint of a single-thread run may be incremental: its base and deltas merge into one snapshot.
      const states = operatorStates(op, (f) => decodeState(snap.file(f)))
      if (!this.isParallel(index)) {
        const v = this.graph.vertices[index]
        if (v?.operator?.restore === undefined) continue
        v.operator.restore(op.keyed && states.every(isKeyedSnapshot) ? redistributeKeyed(states as KeyedSnapshot[], 1, m.keyGroups)[0] : states[0])
        continue
      }
      if (op.keyed && states.every(isKeyedSnapshot)) {
        redistributeKeyed(states as KeyedSnapshot[], this.n, m.keyGroups).forEach((r, sub) => (entry(sub, index).state = r))
      } else if (m.parallelism === this.n) {
        op.files.forEach((f, i) => (entry(f.subtask, index).state = states[i]))
      } else {
        throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `step '${op.step}' (${op.kind}) saved state that is not split by key group at parallelism ${m.parallelism}; it cannot be restored at parallelism ${this.n}`, {
          step: op.step,
          hint: `restore with --parallelism ${m.parallelism}`,
        })
      }
    }
    for (const w of m.vertices) {
      const index = indexOf.get(w.id)
      if (index === undefined) continue
      if (this.isParallel(index)) {
        for (let sub = 0; sub < this.n; sub++) entry(sub, index).wm = { watermark: w.watermark, forwarded: w.forwarded, inputs: w.inputs }
        continue
      }
      const v = this.graph.vertices[index]
      if (v !== undefined) CoordinatorBase.restoreWatermarks(v, w)
    }
    for (const c of m.channels ?? []) {
      const to = indexOf.get(c.to)
      if (to === undefined || dropped.has(c.to)) continue
      out.channels.push({ to, input: c.input, held: deserialize(Buffer.from(c.data, 'base64')) as { level: number; item: unknown }[] })
    }
    forSubtask.forEach((byVertex, sub) => (out.subtasks[sub] = [...byVertex.values()]))
    await this.finishRestore(m)
    return out
  }

  /** Starts a checkpoint (or a savepoint into `savepointDir`) once the previous one is written. */
  async beginCheckpoint(now: number, savepointDir?: string): Promise<PendingCheckpoint> {
    const id = await this.begin(now, savepointDir)
    const base = this.graph.stepMetrics().filter((m) => {
      const v = this.graph.plan.vertices.find((pv) => pv.steps.some((s) => s.id === m.step))
      return v !== undefined && this.isParallel(v.index)
    })
    return new PendingCheckpoint(id, savepointDir, this.n, base)
  }

  /**
   * Sinks only: dead letters of a parallel run stay at-least-once (appended as they come), because letters
   * from workers that passed the barrier can reach the main thread before the checkpoint completes.
   */
  protected override participants(): Participant[] {
    return super.participants().filter((p) => p.writer !== this.graph.errors.deadLetters)
  }

  /** A sink's phase one at its barrier. */
  async preCommit(cp: PendingCheckpoint, v: Vertex): Promise<void> {
    cp.sinks.push(await this.preCommitOne({ step: v.plan.id, writer: v.sink! }, cp.id))
  }

  /** Every part is in: writes the checkpoint in the background, then commits the sinks. */
  complete(cp: PendingCheckpoint): CheckpointStats {
    const stats: CheckpointStats = { id: cp.id, bytes: 0, syncMs: cp.syncMs + Math.max(0, ...cp.subtaskMs), asyncMs: 0, alignmentMs: cp.alignmentMs }
    this.writeInBackground(cp.manifest(this.pipeline, this.n), cp.files, stats, cp.savepointDir)
    return stats
  }
}
