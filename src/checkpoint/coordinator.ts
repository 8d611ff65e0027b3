import { DEFAULT_KEY_GROUPS } from '../core/key.ts'
import type { Vertex } from '../runtime/vertex.ts'
import { CoordinatorBase } from './coordinator-base.ts'
import { operatorStates } from './incremental.ts'
import type { CheckpointStats, Manifest, OperatorEntry, StateFileRef } from './manifest.ts'
import { MANIFEST_FORMAT } from './manifest.ts'
import { isKeyedSnapshot, redistributeKeyed } from './redistribute.ts'
import { basename, join } from 'node:path'
import { ByteWriter } from './bytes.ts'
import { decodeState, encodeState } from './state-file.ts'
import { sha256, StagedFile, type StateFileOut } from './storage.ts'

export type { CheckpointConfig, CheckpointReport } from './coordinator-base.ts'

/** The incremental steps' files since the last full checkpoint, as the next delta's manifest lists them. */
interface Chain {
  files: Map<string, StateFileRef[]>
  baseBytes: number
  deltaBytes: number
  deltas: number
}

/**
 * Takes checkpoints of a pipeline running in this thread and restores from them. Between two source batches
 * every step has processed everything it was given, so a barrier injected at all sources at once is aligned
 * at every step as it passes: the snapshot is taken right there, copied, and written while processing goes on.
 * Sinks pre-commit at the barrier and commit once the manifest is durably written.
 *
 * Incremental checkpoints: a step that can (`snapshotIncremental`) writes a full snapshot into a full
 * checkpoint and, into the deltas that follow, only the keys changed since the previous checkpoint; a delta's
 * manifest lists the base's and earlier deltas' files too, and a restore merges them (`operatorStates`).
 */
export class CheckpointCoordinator extends CoordinatorBase {
  private chain: Chain | undefined
  /**
   * Every step's state files are written into this one buffer, reused by the next checkpoint (which begins only
   * when this one is on disk): no new memory per checkpoint, nothing for the garbage collector.
   */
  private readonly writer = new ByteWriter(Buffer.allocUnsafe(4 << 20))

  /** Restores the latest complete checkpoint (or `restoreFrom`); sinks recover either way. Returns the id restored. */
  async restore(): Promise<number | undefined> {
    const found = await this.findRestore()
    if (found === undefined) return undefined
    const { snap, dropped } = found
    const m = snap.manifest
    const byId = new Map(this.graph.vertices.filter((v): v is Vertex => v !== undefined).map((v) => [v.plan.id, v]))
    for (const op of m.operators) {
      const v = byId.get(op.step)
      if (v?.operator?.restore === undefined || dropped.has(op.step)) continue
      const states = operatorStates(op, (f) => decodeState(snap.file(f)))
      v.operator.restore(op.keyed && states.every(isKeyedSnapshot) ? redistributeKeyed(states, 1, m.keyGroups)[0] : states[0])
    }
    for (const w of m.vertices) {
      const v = byId.get(w.id)
      if (v !== undefined) CoordinatorBase.restoreWatermarks(v, w)
    }
    await this.finishRestore(m)
    return m.id
  }

  /**
   * Takes a checkpoint: waits for source reads in flight, snapshots every step, pre-commits sinks; then
   * writes in the background. With `savepointDir`, writes a self-contained savepoint there instead.
   */
  async trigger(now: number, savepointDir?: string): Promise<CheckpointStats> {
    const id = await this.begin(now, savepointDir)
    const t0 = performance.now()
    for (const r of this.runners) await r.quiesce()
    this.graph.flushErrors()
    if (this.graph.pendingWrites.length > 0) await Promise.all(this.graph.pendingWrites.splice(0))
    const incremental = this.config.incremental && savepointDir === undefined
    if (this.lastFailed) {
      this.lastFailed = false
      this.chain = undefined
    }
    const prev = this.chain
    const delta = incremental && prev !== undefined && prev.deltas < this.config.maxDeltas && prev.deltaBytes <= prev.baseBytes
    const chain: Chain = { files: new Map(), baseBytes: delta ? prev.baseBytes : 0, deltaBytes: delta ? prev.deltaBytes : 0, deltas: delta ? prev.deltas + 1 : 0 }
    const files: StateFileOut[] = []
    const operators: OperatorEntry[] = []
    let wroteDelta = false
    this.writer.reset()
    // A checkpoint's state files are written to a staging folder while they are encoded, through the writer's
    // buffer (see ByteWriter.drainTo); a savepoint's are kept in memory and written with it.
    const staging = savepointDir === undefined ? this.storage.openStaging(id) : undefined
    for (const v of this.graph.vertices) {
      const op = v?.operator
      if (v === undefined || op === undefined) continue
      const tracked = incremental && v.plan.keyed && op.snapshotIncremental !== undefined
      const earlier = delta && tracked ? prev.files.get(v.plan.id) : undefined
      const state = tracked ? op.snapshotIncremental!(earlier === undefined) : op.snapshot?.()
      if (state === undefined) continue
      const step = v.plan.steps[0]
      const entry: OperatorEntry = { step: v.plan.id, kind: step.kind, keyed: v.plan.keyed, descriptor: step.describe, files: earlier === undefined ? [] : earlier.slice() }
      let bytes = 0
      const nameOf = (part: number) => `${v.plan.id}.0.${part}.${earlier === undefined ? 'state' : 'delta'}`
      const add = (name: string, size: number, digest: string) => {
        entry.files.push({ subtask: 0, file: name, bytes: size, sha256: digest, ...(earlier === undefined ? {} : { delta: true }) })
        bytes += size
      }
      if (staging === undefined) {
        encodeState(state, { writer: this.writer }).forEach((data, part) => {
          files.push({ name: nameOf(part), data })
          add(nameOf(part), data.byteLength, sha256(data))
        })
      } else {
        const out = new StagedFile()
        this.writer.drainTo((chunk) => out.write(chunk))
        try {
          encodeState(state, {
            writer: this.writer,
            stream: {
              open: (part) => out.open(join(staging, nameOf(part))),
              close: () => {
                const f = out.close()
                files.push({ name: basename(f.path), path: f.path, bytes: f.bytes, error: f.error })
                add(basename(f.path), f.bytes, f.sha256)
              },
            },
          })
        } finally {
          this.writer.drainTo(undefined)
          out.abandon()
        }
      }
      operators.push(entry)
      if (!tracked) continue
      // The next delta lists these files in this checkpoint's folder.
      chain.files.set(v.plan.id, entry.files.map((f) => (f.checkpoint === undefined ? { ...f, checkpoint: id } : f)))
      if (earlier === undefined) chain.baseBytes += bytes
      else {
        chain.deltaBytes += bytes
        wroteDelta = true
      }
    }
    // A savepoint's plain snapshots stopped change tracking: the next checkpoint is full.
    this.chain = incremental ? chain : undefined
    const sinks = await this.preCommitAll(id)
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
    const stats: CheckpointStats = { id, bytes: 0, syncMs: performance.now() - t0, asyncMs: 0, alignmentMs: 0, ...(wroteDelta ? { delta: true } : {}) }
    this.writeInBackground(manifest, files, stats, savepointDir)
    return stats
  }

  /** Takes a savepoint into `dir` and waits until it is durably written (or throws why not). */
  async savepoint(now: number, dir: string): Promise<CheckpointStats> {
    const stats = await this.trigger(now, dir)
    await this.waitFor(stats.id)
    return stats
  }
}
