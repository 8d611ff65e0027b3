/** What one vertex wrote at a checkpoint, all its subtasks together. */
export interface VertexPart {
  /** Bytes of the state files it wrote at this checkpoint. */
  bytes: number
  /** Whether they were a delta (else a full snapshot, which stands alone). */
  delta: boolean
  /** The approximate bytes of its keyed state where it lives, when it reported them. */
  stateSize: number | undefined
}

/** A vertex's chain: its last full snapshot, the deltas since, and its state's size then and now. */
interface VertexChain {
  baseBytes: number
  deltaBytes: number
  baseSize: number | undefined
  size: number | undefined
}

/**
 * Decides whether the next checkpoint may be a delta. A chain (a full checkpoint and the deltas on it) is what
 * a restore reads; it may grow while most of it is still live state. The chain is compared with what a full
 * checkpoint would take now: per vertex, the bytes of its last full snapshot scaled by how its state grew or
 * shrank since (`StateBackend.approximateBytes`). Once the chain is more than twice that (more dead rows than
 * live: values replaced, rows deleted), or after `maxDeltas` deltas, the next checkpoint is full. Vertices are
 * summed, as a restore reads them all: a small step that rewrites its state does not make a large one that
 * only grows write it all again.
 *
 * State that only grows (a join's rows, windows filling) thus keeps taking deltas, each holding only new rows,
 * instead of a full checkpoint each time the deltas outgrow a base taken when the state was small; state of
 * constant size that is rewritten takes a full once its deltas add up to its size, as before. A vertex that
 * reports no size counts its last full snapshot's bytes as what a full would take.
 */
export class DeltaPolicy {
  private readonly maxDeltas: number
  private readonly vertices = new Map<number, VertexChain>()
  private deltas = 0
  /** Whether a full checkpoint started the current chain (none yet, or after a savepoint or a failure). */
  private based = false

  constructor(maxDeltas: number) {
    this.maxDeltas = maxDeltas
  }

  /** Whether the next checkpoint may write deltas. */
  allowsDelta(): boolean {
    if (!this.based || this.deltas >= this.maxDeltas) return false
    let chain = 0
    let full = 0
    for (const v of this.vertices.values()) {
      chain += v.baseBytes + v.deltaBytes
      full += fullEstimate(v)
    }
    return chain <= 2 * full
  }

  /** A checkpoint completed: `delta` whether it was one; `parts` by vertex index. */
  completed(delta: boolean, parts: Map<number, VertexPart>): void {
    if (!delta || !this.based) {
      this.vertices.clear()
      this.deltas = 0
      this.based = true
    } else this.deltas++
    for (const [index, p] of parts) {
      const v = this.vertices.get(index)
      if (p.delta && v !== undefined) {
        v.deltaBytes += p.bytes
        v.size = p.stateSize
      } else this.vertices.set(index, { baseBytes: p.bytes, deltaBytes: 0, baseSize: p.stateSize, size: p.stateSize })
    }
  }

  /** The chain ends (a savepoint, a restore): the next checkpoint is full. */
  reset(): void {
    this.vertices.clear()
    this.deltas = 0
    this.based = false
  }
}

/** What a full snapshot of the vertex would take now: its last one scaled by its state's growth since. */
function fullEstimate(v: VertexChain): number {
  if (v.baseSize === undefined || v.size === undefined || v.baseSize <= 0) return v.baseBytes
  return (v.baseBytes * v.size) / v.baseSize
}
