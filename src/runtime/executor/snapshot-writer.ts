import { join } from 'node:path'
import { errorMessage } from '../../core/errors.ts'
import { basename } from 'node:path'
import { ByteWriter } from '../../checkpoint/bytes.ts'
import type { StateFileRef } from '../../checkpoint/manifest.ts'
import { encodeState } from '../../checkpoint/state-file.ts'
import { StagedFile } from '../../checkpoint/storage.ts'
import type { Vertex } from '../vertex.ts'
import type { BarrierSpec } from './protocol.ts'

/**
 * Writes the state of one thread's subtasks at a barrier: each operator's snapshot is encoded through one
 * reused 4 MB buffer straight into the checkpoint's staging folder (no copy of the state in memory). Keeps,
 * per vertex, the files of the last full snapshot and the deltas since, which the next delta lists.
 */
export class SnapshotWriter {
  private readonly writer = new ByteWriter(Buffer.allocUnsafe(4 << 20))
  private readonly chains = new Map<number, StateFileRef[]>()
  private readonly subtask: number

  constructor(subtask: number) {
    this.subtask = subtask
  }

  /** Forgets the chains: the next snapshot of every vertex is full. */
  reset(): void {
    this.chains.clear()
  }

  /**
   * Snapshots vertex `v` for checkpoint `id`; returns its state files (undefined for a stateless operator), their
   * size, and whether they are a delta.
   */
  write(v: Vertex, id: number, spec: BarrierSpec): { files: StateFileRef[] | undefined; bytes: number; delta: boolean } {
    const op = v.operator
    const index = v.plan.index
    if (op === undefined) return { files: undefined, bytes: 0, delta: false }
    const tracked = spec.kind === 'checkpoint' && v.plan.keyed && op.snapshotIncremental !== undefined
    const earlier = tracked && spec.delta ? this.chains.get(index) : undefined
    const state = tracked ? op.snapshotIncremental!(earlier === undefined) : op.snapshot?.()
    if (!tracked) this.chains.delete(index)
    if (state === undefined) return { files: undefined, bytes: 0, delta: false }
    const staging = spec.staging!
    const files: StateFileRef[] = earlier === undefined ? [] : earlier.slice()
    let bytes = 0
    const nameOf = (part: number) => `${v.plan.id}.${this.subtask}.${part}.${earlier === undefined ? 'state' : 'delta'}`
    const out = new StagedFile()
    this.writer.reset()
    this.writer.drainTo((chunk) => out.write(chunk))
    try {
      encodeState(state, {
        writer: this.writer,
        stream: {
          open: (part) => out.open(join(staging, nameOf(part))),
          close: () => {
            const f = out.close()
            files.push({ subtask: this.subtask, file: basename(f.path), bytes: f.bytes, sha256: f.sha256, ...(earlier === undefined ? {} : { delta: true }), ...(f.error !== undefined ? ({ error: errorMessage(f.error) } as object) : {}) })
            bytes += f.bytes
          },
        },
      })
    } finally {
      this.writer.drainTo(undefined)
      out.abandon()
    }
    if (tracked) this.chains.set(index, files.map((f) => (f.checkpoint === undefined ? { ...f, checkpoint: id } : f)))
    return { files, bytes, delta: earlier !== undefined }
  }
}
