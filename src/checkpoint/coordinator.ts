import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { serialize, deserialize } from 'node:v8'
import { isS3Url } from './s3-location.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import type { Batch } from '../core/batch.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import type { PhysicalPlan } from '../plan/physical-plan.ts'
import type { Ack, ChannelState, ThreadRestore, VertexWatermarks, BarrierSpec } from './acks.ts'
import { DEAD_LETTERS, checkCompatibility } from './compatibility.ts'
import { detachKeyedRestore, planKeyedRestores } from './keyed-restore.ts'
import { operatorStates } from './incremental.ts'
import type { CheckpointStats, Manifest, OperatorEntry, SourceSnapshot } from './manifest.ts'
import { MANIFEST_FORMAT } from './manifest.ts'
import { isKeyedSnapshot, redistributeKeyed } from './redistribute.ts'
import { decodeState } from './state-file.ts'
import { checkFallback, type LaterCommits } from './fallback.ts'
import { checkpointStorageFor } from './object-storage.ts'
import { objectSavepointStaging, readObjectSavepoint, writeObjectSavepoint } from './object-savepoint.ts'
import { CheckpointStorage, readCheckpointFolder, writeCheckpointFolder, type CheckpointRead, type StateFileOut } from './storage.ts'
import { DeltaPolicy, type VertexPart } from './delta-policy.ts'
import { partitionByKey } from '../core/partition-by-key.ts'

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
   * Fall back past damaged checkpoints (or start from scratch when none reads back) even when output they
   * committed cannot be taken back (a log sink, dead letters) and will be written again. Default false: refuse.
   */
  acceptDuplicates?: boolean
  /**
   * Incremental checkpoints (default true): steps that support it (regular joins, keyed aggregates; on the
   * durable store also windows, window and interval joins and process functions) write
   * only the keys changed since the previous checkpoint, and the checkpoint lists the earlier files it builds
   * on. A full checkpoint is taken first, after a restore or a failed checkpoint, after `maxDeltas` deltas, and once
   * the chain holds more than twice what a full checkpoint of the state would take now (see `DeltaPolicy`):
   * state that only grows keeps taking deltas. Savepoints are always full.
   */
  incremental?: boolean
  /** Incremental checkpoints: deltas after which a full checkpoint is taken (default 10); a restore reads at most this many. */
  maxDeltas?: number
  /**
   * Checkpoints in object storage (`s3://`): the folder where this machine keeps a copy of the state files it
   * writes, which a restart on the same machine restores from instead of downloading them (when they match the
   * manifest's checksums). Default: a folder in the system's temporary folder named for the checkpoint URL;
   * false for none. Local checkpoint folders are read where they are.
   */
  localRecovery?: string | false
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

/** What the coordinator needs to know of the run's layout. */
export interface CoordinatorLayout {
  threads: number
  /** Subtasks of each vertex of the plan. */
  subtasks(vertex: number): number
  /** Kind of the edge into input `input` of vertex `vertex`. */
  edge(vertex: number, input: number): 'forward' | 'keyed' | 'gather'
}


interface Round {
  id: number
  spec: BarrierSpec
  savepoint: string | undefined
  acks: Ack[]
  expected: number
  startedAt: number
}

/**
 * The one checkpoint coordinator, driven by acknowledgements: the runner sends barrier `id` to every thread,
 * each subtask answers with its part (a source's positions, an operator's state files already written to the
 * staging folder or, from a process that stores its own, to the bucket, a sink's pre-commit handle, the
 * dead-letter writer's), and once every part is in, the manifest is
 * written atomically; then the runner tells every thread to commit. One checkpoint is in flight at a time and
 * processing never waits for the disk. Restoring builds what each thread restores, redistributing keyed state by
 * key group when the parallelism changed.
 */
export class CheckpointCoordinator {
  readonly report: CheckpointReport = { completed: 0, failed: 0, deltas: 0, restoredFrom: null, restoreMs: null, last: null }
  private readonly pipeline: string
  private readonly plan: PhysicalPlan
  private readonly layout: CoordinatorLayout
  private readonly config: Required<Omit<CheckpointConfig, 'restoreFrom' | 'localRecovery'>> & { restoreFrom?: string; localRecovery?: string | false }
  private readonly storage: CheckpointStorage
  private readonly deadLetters: boolean
  private nextId = 1
  private nextAt: number
  private round: Round | undefined
  private failure: SluiceError | undefined
  /** Why the last checkpoint that failed did (what a job event reports). */
  lastError: unknown
  private failedInRow = 0
  private lastFailed = true
  private readonly policy: DeltaPolicy

  constructor(pipeline: string, plan: PhysicalPlan, layout: CoordinatorLayout, config: CheckpointConfig, now: number, deadLetters: boolean) {
    this.pipeline = pipeline
    this.plan = plan
    this.layout = layout
    this.deadLetters = deadLetters
    this.config = { retain: 3, tolerableFailures: 3, allowDroppedState: false, acceptDuplicates: false, incremental: true, maxDeltas: 10, warn: (m) => console.warn(m), ...config }
    this.policy = new DeltaPolicy(this.config.maxDeltas)
    this.storage = checkpointStorageFor(config.dir, config.localRecovery)
    this.nextAt = config.intervalMs > 0 ? now + config.intervalMs : Infinity
  }

  get inFlight(): boolean {
    return this.round !== undefined
  }

  /** When the next periodic checkpoint is due (epoch ms of the run's clock), +Infinity if none. */
  get nextDue(): number {
    return this.nextAt
  }

  /** Time between periodic checkpoints in ms (0: only at the end of input and on stop). */
  get intervalMs(): number {
    return this.config.intervalMs
  }

  /**
   * Changes the time between periodic checkpoints while the job runs: the next one is due `ms` after `now`
   * (or after the one in flight begins its successor); 0 stops periodic checkpoints.
   */
  setInterval(ms: number, now: number): void {
    this.config.intervalMs = ms
    this.nextAt = ms > 0 ? now + ms : Infinity
  }

  /** True when the interval has passed and no checkpoint is in flight; throws once checkpoints failed too often. */
  due(now: number): boolean {
    if (this.failure !== undefined) throw this.failure
    return now >= this.nextAt && this.round === undefined
  }

  /**
   * The checkpoint to restore (the latest complete one, or `restoreFrom`), checked against the pipeline, as what
   * each thread restores; undefined to start fresh. Damaged checkpoints are skipped only when `laterCommits`
   * names nothing they committed that a restore cannot take back, or with `acceptDuplicates`.
   */
  async restore(laterCommits?: LaterCommits): Promise<ThreadRestore[] | undefined> {
    const started = performance.now()
    await this.storage.lock()
    await this.storage.retain(Number.MAX_SAFE_INTEGER)
    // New checkpoints take ids above every folder present, also unreadable ones newer than the one restored.
    this.nextId = ((await this.storage.ids())[0] ?? 0) + 1
    let snap: CheckpointRead | undefined
    const from = this.config.restoreFrom
    if (from !== undefined) snap = isS3Url(from) ? await readObjectSavepoint(from) : await readCheckpointFolder(from)
    else {
      const latest = await this.storage.latest(this.config.warn)
      snap = latest.read
      const { dir, acceptDuplicates, warn } = this.config
      await checkFallback({ dir, skipped: latest.skipped, restored: snap?.manifest.id, laterCommits, acceptDuplicates, warn })
    }
    if (snap === undefined) return undefined
    const m = snap.manifest
    if (m.pipeline !== this.pipeline) {
      throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `the checkpoint belongs to pipeline '${m.pipeline}', not '${this.pipeline}'`, { hint: 'use another --checkpoint-dir' })
    }
    const sources = this.plan.vertices.filter((v) => v.role === 'source').map((v) => ({ vertex: { plan: v } }))
    const dropped = checkCompatibility(m, { plan: this.plan } as never, sources as never, this.config.allowDroppedState, this.config.warn)
    const restores = planRestore(m, snap, this.plan, this.layout, dropped)
    this.nextId = Math.max(this.nextId, m.id + 1)
    this.report.restoredFrom = m.id
    this.report.restoreMs = performance.now() - started
    return restores
  }

  /** Starts checkpoint (or savepoint into `savepoint`, or a drain round): its id and what its barrier asks. */
  begin(now: number, kind: BarrierSpec['kind'], savepoint?: string): { id: number; spec: BarrierSpec } {
    if (this.failure !== undefined) throw this.failure
    if (this.round !== undefined) throw new SluiceError('SLUICE_INTERNAL', `checkpoint ${this.round.id} is still in flight`, { domain: 'internal' })
    // A bucket's savepoint is checked for when it is written (complete), the folder's here.
    if (savepoint !== undefined && !isS3Url(savepoint) && existsSync(savepoint)) {
      throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${savepoint}' already exists`, { hint: 'choose a new folder for each savepoint' })
    }
    if (kind !== 'drain') this.nextAt = this.config.intervalMs > 0 ? now + this.config.intervalMs : Infinity
    const id = kind === 'drain' ? 0 : this.nextId++
    let staging: string | undefined
    if (kind !== 'drain') {
      if (savepoint === undefined) staging = this.storage.openStaging(id)
      else {
        staging = isS3Url(savepoint) ? objectSavepointStaging(savepoint) : `${resolve(savepoint)}.staging.tmp`
        rmSync(staging, { recursive: true, force: true })
        mkdirSync(staging, { recursive: true })
      }
    }
    const delta = kind === 'checkpoint' && this.config.incremental && !this.lastFailed && this.policy.allowsDelta()
    const spec: BarrierSpec = { kind, delta, staging, ...(savepoint !== undefined && isS3Url(savepoint) ? { target: savepoint } : {}) }
    let expected = this.deadLetters ? 1 : 0
    for (const v of this.plan.vertices) expected += this.layout.subtasks(v.index)
    this.round = { id, spec, savepoint, acks: [], expected, startedAt: performance.now() }
    return { id, spec }
  }

  /** A subtask's part arrived; true when the round has every part. */
  ack(a: Ack): boolean {
    const r = this.round
    if (r === undefined || a.id !== r.id) throw new SluiceError('SLUICE_INTERNAL', `an answer to barrier ${a.id} arrived, which is not in flight`, { domain: 'internal' })
    r.acks.push(a)
    return r.acks.length === r.expected
  }

  /** Ends a drain round (a stop without checkpoints). */
  endDrain(): void {
    this.round = undefined
  }

  /**
   * Every part is in: writes the manifest (and moves the state files) durably. Resolves with the stats once the
   * checkpoint is complete; a failed write counts as a failed checkpoint (the job fails after too many in a row)
   * and resolves with undefined.
   */
  async complete(): Promise<CheckpointStats | undefined> {
    const r = this.round!
    const { manifest, files, parts, stored, delta, alignmentMs, syncMs } = this.assemble(r)
    const stats: CheckpointStats = { id: r.id, bytes: 0, syncMs, asyncMs: 0, alignmentMs, ...(delta ? { delta: true } : {}) }
    const t1 = performance.now()
    try {
      stats.bytes = stored + (r.savepoint === undefined ? await this.storage.write(manifest, files) : await writeSavepoint(r.savepoint, manifest, files))
      stats.asyncMs = performance.now() - t1
      if (r.savepoint !== undefined) await rm(r.spec.staging!, { recursive: true, force: true })
    } catch (e) {
      this.round = undefined
      if (r.savepoint !== undefined) await rm(r.spec.staging!, { recursive: true, force: true }).catch(() => {})
      this.failed(r.id, e)
      if (r.savepoint !== undefined) throw e
      return undefined
    }
    this.round = undefined
    this.failedInRow = 0
    this.lastFailed = false
    this.report.completed++
    if (delta) this.report.deltas++
    this.report.last = stats
    if (r.spec.kind === 'savepoint') this.policy.reset()
    else this.policy.completed(delta, parts)
    return stats
  }

  /** After the commit of a complete checkpoint: older checkpoints beyond `retain` go. */
  async retain(): Promise<void> {
    await this.storage.retain(this.config.retain)
  }

  private failed(id: number, e: unknown): void {
    this.report.failed++
    this.lastError = e
    this.lastFailed = true
    this.failedInRow++
    this.config.warn(`checkpoint ${id} of '${this.pipeline}' failed: ${errorMessage(e)}`)
    if (this.failedInRow > this.config.tolerableFailures) {
      this.failure = new SluiceError('SLUICE_CHECKPOINT_FAILED', `${this.failedInRow} checkpoints in a row failed; the last: ${errorMessage(e)}`, { domain: 'external', cause: e, hint: 'check the checkpoint folder (space, permissions)' })
    }
  }

  /** Releases the checkpoint folder's lock (taken by the restore); call it when the run ends, however it ends. */
  async close(): Promise<void> {
    await this.storage.release()
  }

  /** Throws if checkpoints failed too often. */
  check(): void {
    if (this.failure !== undefined) throw this.failure
  }

  /**
   * The manifest of round `r` from its acknowledgements, the state files still to store (those in the staging
   * folder), the state's bytes, and the bytes of files their writers stored already.
   */
  private assemble(r: Round): { manifest: Manifest; files: StateFileOut[]; parts: Map<number, VertexPart>; stored: number; delta: boolean; alignmentMs: number; syncMs: number } {
    const { plan } = this
    const byVertex = new Map<number, Ack[]>()
    for (const a of r.acks) {
      let l = byVertex.get(a.vertex)
      if (l === undefined) byVertex.set(a.vertex, (l = []))
      l.push(a)
    }
    for (const l of byVertex.values()) l.sort((a, b) => a.subtask - b.subtask)
    const sources: Manifest['sources'] = []
    const operators: OperatorEntry[] = []
    const sinks: Manifest['sinks'] = []
    const vertices: Manifest['vertices'] = []
    const channels: NonNullable<Manifest['channels']> = []
    const metrics = new Map<string, Manifest['metrics'][number]>()
    const files: StateFileOut[] = []
    const parts = new Map<number, VertexPart>()
    let stored = 0
    let delta = false
    let alignmentMs = 0
    let syncMs = 0
    for (const pv of plan.vertices) {
      const acks = byVertex.get(pv.index) ?? []
      const step = pv.steps[0]
      let entry: OperatorEntry | undefined
      for (const a of acks) {
        syncMs = Math.max(syncMs, a.ms)
        if (a.kind === 'drained' || a.kind === 'dead-letters') continue
        for (const s of a.steps) {
          const m = metrics.get(s.step)
          if (m === undefined) metrics.set(s.step, { step: s.step, in: s.in, out: s.out, late: s.late, errors: s.errors, dropped: s.dropped })
          else {
            m.in += s.in
            m.out += s.out
            m.late += s.late
            m.errors += s.errors
            m.dropped += s.dropped
          }
        }
        vertices.push({ id: pv.id, subtask: a.subtask, ...a.wm })
        if (a.kind === 'source') continue
        alignmentMs = Math.max(alignmentMs, a.alignmentMs)
        if (a.kind === 'sink') {
          sinks.push({ step: pv.id, subtask: a.subtask, kind: step.kind, pending: a.pending })
          continue
        }
        for (const c of a.channels) if (c.held.length > 0 || c.wms.some((w) => w !== -Infinity)) channels.push({ to: pv.id, subtask: a.subtask, input: c.input, wms: c.wms, data: serialize(c.held).toString('base64') })
        if (a.files === undefined) continue
        entry ??= { step: pv.id, kind: step.kind, keyed: pv.keyed, descriptor: step.describe, files: [] }
        for (const f of a.files) {
          entry.files.push(f)
          // A state file that could not be written (a full disk) fails the checkpoint when it is written.
          const error = (f as { error?: string }).error
          if (f.checkpoint !== undefined || (a.stored === true && error === undefined)) continue
          files.push({ name: f.file, path: join(r.spec.staging!, f.file), bytes: f.bytes, ...(error !== undefined ? { error: new Error(error) } : {}) })
        }
        if (a.stored === true) stored += a.files.reduce((n, f) => n + (f.checkpoint === undefined ? f.bytes : 0), 0)
        const part = parts.get(pv.index)
        if (part === undefined) parts.set(pv.index, { bytes: a.bytes, delta: a.delta, stateSize: a.stateSize })
        else {
          part.bytes += a.bytes
          part.delta ||= a.delta
          part.stateSize = a.stateSize === undefined || part.stateSize === undefined ? undefined : part.stateSize + a.stateSize
        }
        if (a.delta) delta = true
      }
      if (entry !== undefined) operators.push(entry)
      const srcAcks = acks.filter((a): a is Extract<Ack, { kind: 'source' }> => a.kind === 'source')
      if (srcAcks.length > 0 && step.impl.role === 'source') sources.push({ step: pv.id, kind: step.impl.source.kind, state: mergeSourceStates(srcAcks) })
    }
    const dl = r.acks.find((a): a is Extract<Ack, { kind: 'dead-letters' }> => a.kind === 'dead-letters')
    if (dl !== undefined) sinks.push({ step: DEAD_LETTERS, subtask: 0, pending: dl.pending })
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      kind: r.savepoint === undefined ? 'checkpoint' : 'savepoint',
      id: r.id,
      pipeline: this.pipeline,
      createdAt: new Date().toISOString(),
      parallelism: this.layout.threads,
      keyGroups: DEFAULT_KEY_GROUPS,
      sources,
      operators,
      sinks,
      vertices,
      metrics: [...metrics.values()],
      ...(channels.length > 0 ? { channels } : {}),
    }
    return { manifest, files, parts, stored, delta, alignmentMs, syncMs }
  }
}

/** The sources' subtasks each report the partitions they own: one snapshot of the whole source. */
function mergeSourceStates(acks: Extract<Ack, { kind: 'source' }>[]): SourceSnapshot {
  // The longest: subtask 0 of a source that found new partitions in this run knows more of them than the others.
  const first = acks.reduce((a, b) => (b.state.positions.length > a.state.positions.length ? b : a)).state
  const out: SourceSnapshot = { positions: first.positions.slice(), watermarks: first.watermarks.slice(), ended: first.ended.slice(), recordsIn: 0 }
  for (const a of acks) {
    for (const p of a.owned) {
      out.positions[p] = a.state.positions[p]
      out.watermarks[p] = a.state.watermarks[p]
      out.ended[p] = a.state.ended[p]
    }
    out.recordsIn += a.state.recordsIn
  }
  return out
}

/** What each thread restores from checkpoint `m` at the run's layout. */
function planRestore(m: Manifest, snap: CheckpointRead, plan: PhysicalPlan, layout: CoordinatorLayout, dropped: Set<string>): ThreadRestore[] {
  const n = layout.threads
  const out: ThreadRestore[] = Array.from({ length: n }, (_, t) => ({ checkpointId: m.id, vertices: [], sources: [], sinks: [], deadLetters: undefined, metrics: t === 0 ? m.metrics.map((x) => ({ ...x, kind: '' })) : [] }))
  const byId = new Map(plan.vertices.map((v) => [v.id, v]))
  for (const s of m.sources) {
    const v = byId.get(s.step)
    if (v === undefined || dropped.has(s.step)) continue
    for (const r of out) r.sources.push({ vertex: v.index, state: s.state })
  }
  const vertexEntry = (t: number, vertex: number): ThreadRestore['vertices'][number] => {
    let e = out[t].vertices.find((x) => x.vertex === vertex)
    if (e === undefined) out[t].vertices.push((e = { vertex, state: undefined, wm: undefined, channels: [] }))
    return e
  }
  for (const op of m.operators) {
    const v = byId.get(op.step)
    if (v === undefined || dropped.has(op.step)) continue
    const subs = layout.subtasks(v.index)
    // Keyed state goes to its threads undecoded; each decodes a key group when its operator reads it.
    const encoded = op.keyed ? planKeyedRestores(op, snap, subs, m.keyGroups) : undefined
    if (encoded !== undefined) {
      encoded.forEach((r, t) => (vertexEntry(t, v.index).state = t === 0 ? r : detachKeyedRestore(r)))
      continue
    }
    const states = operatorStates(op, (f) => decodeState(snap.file(f)))
    if (op.keyed && states.every(isKeyedSnapshot)) {
      redistributeKeyed(states as KeyedSnapshot[], subs, m.keyGroups).forEach((r, t) => (vertexEntry(t, v.index).state = r))
    } else if (m.parallelism === subs || states.length === 1) {
      op.files.forEach((f, i) => (vertexEntry(f.subtask % subs, v.index).state = states[i]))
    } else {
      throw new SluiceError('SLUICE_CHECKPOINT_MISMATCH', `step '${op.step}' (${op.kind}) saved state that is not split by key group at parallelism ${m.parallelism}; it cannot be restored at parallelism ${n}`, {
        step: op.step,
        hint: `restore with --parallelism ${m.parallelism}`,
      })
    }
  }
  for (const v of plan.vertices) {
    const saved = m.vertices.filter((w) => w.id === v.id)
    if (saved.length === 0) continue
    const subs = layout.subtasks(v.index)
    const same = saved.length === subs
    for (let t = 0; t < subs; t++) {
      const own = same ? saved.find((w) => (w.subtask ?? 0) === t) : undefined
      vertexEntry(t, v.index).wm = own !== undefined ? { watermark: own.watermark, forwarded: own.forwarded, inputs: own.inputs } : minWatermarks(saved)
    }
  }
  for (const c of m.channels ?? []) {
    const v = byId.get(c.to)
    if (v === undefined || dropped.has(c.to)) continue
    // Checkpoints of earlier versions held `{ level, item: { batch } }`.
    const held = (deserialize(Buffer.from(c.data, 'base64')) as { level: number; batch?: Batch; item?: { batch: Batch } }[]).map((h) => ({ level: h.level, batch: h.batch ?? h.item!.batch }))
    const subs = layout.subtasks(v.index)
    const kind = layout.edge(v.index, c.input)
    const same = m.parallelism === n
    const share = (t: number): ChannelState => {
      const e = vertexEntry(t, v.index)
      let ch = e.channels.find((x) => x.input === c.input)
      if (ch === undefined) e.channels.push((ch = { input: c.input, wms: same ? (c.wms ?? []) : [], held: [] }))
      return ch
    }
    for (const h of held) {
      if (kind === 'keyed' && subs > 1) {
        partitionByKey(h.batch, subs).forEach((b, t) => {
          if (b !== undefined) share(t).held.push({ level: h.level, batch: b })
        })
      } else {
        share(kind === 'gather' ? 0 : (c.subtask ?? 0) % subs).held.push(h)
      }
    }
    if (same) share((c.subtask ?? 0) % subs)
  }
  for (const s of m.sinks) {
    if (s.step === DEAD_LETTERS) {
      out[0].deadLetters = s.pending
      continue
    }
    const v = byId.get(s.step)
    if (v === undefined) continue
    const subs = layout.subtasks(v.index)
    const old = s.subtask ?? 0
    const t = old % subs
    let e = out[t].sinks.find((x) => x.vertex === v.index)
    if (e === undefined) out[t].sinks.push((e = { vertex: v.index, inherited: [] }))
    e.inherited.push(s.pending.map((p) => ({ subtask: old, ...p })))
  }
  return out
}

function minWatermarks(saved: VertexWatermarks[]): VertexWatermarks {
  const inputs = saved[0].inputs.map((_, i) => Math.min(...saved.map((w) => w.inputs[i] ?? Infinity)))
  return { watermark: Math.min(...saved.map((w) => w.watermark)), forwarded: Math.min(...saved.map((w) => w.forwarded)), inputs }
}


/** Writes a savepoint into a new folder, or under a new `s3://bucket/prefix`. */
async function writeSavepoint(dir: string, manifest: Manifest, files: StateFileOut[]): Promise<number> {
  if (isS3Url(dir)) return writeObjectSavepoint(dir, manifest, files)
  if (existsSync(dir)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${dir}' already exists`, { hint: 'choose a new folder for each savepoint' })
  await mkdir(dirname(resolve(dir)), { recursive: true })
  return writeCheckpointFolder(dir, manifest, files)
}

