import type { Batch } from '../../core/batch.ts'
import type { Vertex } from '../vertex.ts'
import { AlignedInput } from './aligned-input.ts'
import { BarrierGate } from './barrier-gate.ts'
import type { ChannelState } from './protocol.ts'
import type { PausedDelivery } from './paused-delivery.ts'

/**
 * The inputs of one subtask of a vertex: every channel (an upstream subtask feeding one input) goes through a
 * barrier gate (what a channel sends after checkpoint barrier n waits until n has arrived on every channel),
 * then through the input's watermark alignment (records wait for the watermark they were sent under, see
 * AlignedInput), then into the vertex. Ends of input are counted per channel: the vertex finishes when every
 * channel has ended.
 */
export class VertexInputs {
  readonly vertex: Vertex
  readonly gate: BarrierGate
  readonly inputs: AlignedInput<Batch>[]
  private readonly offsets: number[]
  private readonly ended: boolean[]
  private endedCount = 0
  private readonly onEnd: () => void

  constructor(vertex: Vertex, channels: number[], onAligned: () => void | Promise<void>, onEnd: () => void, onError: (e: unknown) => void, pause?: Pick<PausedDelivery, 'paused' | 'defer'>) {
    this.vertex = vertex
    this.onEnd = onEnd
    this.offsets = []
    let total = 0
    for (const n of channels) {
      this.offsets.push(total)
      total += n
    }
    this.ended = new Array<boolean>(total).fill(false)
    this.gate = new BarrierGate(total, vertex.plan.id, onAligned, onError)
    // What alignment or a barrier releases several at a time waits, in order, behind a step that paused on the first.
    const held = (f: () => void): void => {
      if (pause !== undefined && pause.paused) pause.defer(f)
      else f()
    }
    this.inputs = channels.map(
      (n, input) =>
        new AlignedInput<Batch>(n, {
          data: (b) => held(() => vertex.push(b, input)),
          watermark: (wm) => held(() => vertex.inputWatermark(input, wm)),
          idle: () => held(() => vertex.inputIdle(input)),
        }),
    )
  }

  data(input: number, ch: number, batch: Batch): void {
    const g = this.offsets[input] + ch
    if (this.gate.blocks(g)) this.gate.pass(g, () => this.inputs[input].data(ch, batch))
    else this.inputs[input].data(ch, batch)
  }

  watermark(input: number, ch: number, wm: number): void {
    const g = this.offsets[input] + ch
    if (this.gate.blocks(g)) this.gate.pass(g, () => this.inputs[input].watermark(ch, wm))
    else this.inputs[input].watermark(ch, wm)
  }

  idle(input: number, ch: number): void {
    const g = this.offsets[input] + ch
    if (this.gate.blocks(g)) this.gate.pass(g, () => this.inputs[input].markIdle(ch))
    else this.inputs[input].markIdle(ch)
  }

  barrier(input: number, ch: number): void {
    this.gate.barrier(this.offsets[input] + ch)
  }

  eof(input: number, ch: number): void {
    const g = this.offsets[input] + ch
    const end = (): void => {
      if (this.ended[g]) return
      this.ended[g] = true
      if (++this.endedCount === this.ended.length) this.onEnd()
    }
    if (this.gate.blocks(g)) this.gate.pass(g, end)
    else end()
  }

  /** Records held for alignment, per input, with each channel's watermark: a checkpoint saves them. */
  channelState(): ChannelState[] {
    const out: ChannelState[] = []
    this.inputs.forEach((a, input) => {
      const held = a.heldItems().map((h) => ({ level: h.level, batch: h.item }))
      out.push({ input, wms: a.channelWatermarks(), held })
    })
    return out
  }

  /** Delivers every held record now (a stop without checkpoints drains what it read). */
  releaseHeld(): void {
    for (const a of this.inputs) a.releaseAll()
  }

  restore(channels: ChannelState[], current: number[]): void {
    for (const c of channels) {
      const a = this.inputs[c.input]
      if (a === undefined) continue
      if (c.wms.length > 0) a.restore(c.wms, current[c.input] ?? -Infinity)
      for (const h of c.held) a.hold(h.level, h.batch)
    }
  }
}
