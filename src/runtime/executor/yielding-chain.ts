import type { Batch } from '../../core/batch.ts'
import type { Operator, Output } from '../../core/operator.ts'
import type { FusedChain } from '../../operators/stateless/fused-chain.ts'
import type { PhysicalPlan, PlanVertex } from '../../plan/physical-plan.ts'
import type { Vertex } from '../vertex.ts'

/** How long a batch may hold the thread before it pauses so that signals, timers and messages get in. */
export const YIELD_AFTER_MS = 50

/** Records between two looks at the time while the chain's functions are fast. */
const STRIDE = 64

type Held = { batch: Batch; out: Output } | { wm: number }

/**
 * A map / filter / flatMap chain whose batches pause when they run long (a slow or blocking user function),
 * so that the thread's event loop stays responsive: a SIGTERM is heard, a drain timeout fires, a cancel is
 * served. A paused batch goes on at the next turn of the event loop, before anything else reaches the chain:
 * batches and watermarks that arrive meanwhile wait behind it, in order, and its output is emitted as one
 * batch, so neither batch boundaries nor watermark positions depend on how fast the functions run. The
 * executor waits for `drain()` before it does anything else on the thread.
 * @example
 * v.operator = new YieldingChain(v.operator as FusedChain, v, (e) => executor.fail(e))
 */
export class YieldingChain implements Operator {
  private readonly chain: FusedChain
  private readonly vertex: Vertex
  private readonly onFail: (e: unknown) => void
  private readonly held: Held[] = []
  private deadline = 0
  private waiters: { resolve(): void; reject(e: unknown): void }[] = []
  private failure: unknown = undefined
  private scheduled = false

  constructor(chain: FusedChain, vertex: Vertex, onFail: (e: unknown) => void) {
    this.chain = chain
    this.vertex = vertex
    this.onFail = onFail
    chain.shouldYield = () => performance.now() >= this.deadline
  }

  /** A batch is paused, or batches or watermarks wait behind one. */
  get busy(): boolean {
    return this.chain.pending || this.held.length > 0
  }

  process(batch: Batch, out: Output): void {
    if (this.busy) {
      this.held.push({ batch, out })
      return
    }
    this.deadline = performance.now() + YIELD_AFTER_MS
    this.chain.process(batch, out)
    if (this.chain.pending) this.schedule()
    // A batch done within its time: the functions are fast again, the check can be rare again.
    else this.chain.yieldStride = STRIDE
  }

  /** While busy, the watermark waits behind the batches before it (the vertex forwards nothing yet). */
  onWatermark(wm: number): number | void {
    if (!this.busy) return
    this.held.push({ wm })
    return this.vertex.forwarded
  }

  /** Settles once the paused batch and everything held behind it are done; undefined when nothing is. */
  drain(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (!this.busy) return undefined
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  /** The job fails or is cancelled: the paused batch is abandoned, and whoever waits for it gets `e`. */
  abandon(e: unknown): void {
    this.failure ??= e
    this.held.length = 0
    for (const w of this.waiters.splice(0)) w.reject(this.failure)
  }

  private schedule(): void {
    // The functions are slow: look at the time after every record until a batch is done within its time.
    this.chain.yieldStride = 1
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.step()
    })
  }

  /** One turn: goes on with the paused batch, then with what waits behind it, until done or paused again. */
  private step(): void {
    if (this.failure !== undefined) return
    try {
      this.deadline = performance.now() + YIELD_AFTER_MS
      if (!this.chain.resume()) return this.schedule()
      while (this.held.length > 0) {
        const h = this.held.shift()!
        if ('wm' in h) {
          this.vertex.releaseWatermark(h.wm)
          continue
        }
        this.chain.process(h.batch, h.out)
        if (this.chain.pending) return this.schedule()
      }
    } catch (e) {
      this.abandon(e)
      this.onFail(e)
      return
    }
    for (const w of this.waiters.splice(0)) w.resolve()
  }
}

/**
 * Whether a chain may pause without changing what any step sees: only where nothing else on the thread runs
 * between its pause and its end. That holds for a chain fed by one source and nothing else, as that source's
 * only consumer: the source's batch ends with the chain, and the executor waits for the chain before its next
 * move. Anywhere else (a source or step feeding several consumers, a chain with several inputs) the consumers
 * after it would run while it is paused, and a step downstream of both would see records in another order
 * than without the pause: output would depend on the machine's speed.
 */
export function mayPause(plan: PhysicalPlan, v: PlanVertex): boolean {
  if (v.inputs.length !== 1 || v.inputs[0].tag !== undefined) return false
  const from = plan.vertices[v.inputs[0].from]
  return from.role === 'source' && plan.consumers[from.index].length === 1
}

/** Makes every map / filter / flatMap chain among `vertices` that may pause (see `mayPause`) yield when its batches run long. */
export function yieldingChains(plan: PhysicalPlan, vertices: readonly (Vertex | undefined)[], isChain: (op: Operator) => op is FusedChain, onFail: (e: unknown) => void): YieldingChain[] {
  const out: YieldingChain[] = []
  for (const v of vertices) {
    if (v?.operator === undefined || !isChain(v.operator) || !mayPause(plan, v.plan)) continue
    const y = new YieldingChain(v.operator, v, onFail)
    v.operator = y
    out.push(y)
  }
  return out
}

/** Settles once no chain has a paused batch; undefined (no wait at all) when none has. */
export function chainsDone(chains: readonly YieldingChain[]): Promise<unknown> | undefined {
  let waits: Promise<void>[] | undefined
  for (const c of chains) {
    const d = c.drain()
    if (d !== undefined) (waits ??= []).push(d)
  }
  return waits === undefined ? undefined : Promise.all(waits)
}
