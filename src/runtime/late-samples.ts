import type { Batch } from '../core/batch.ts'

/** A late record kept as a sample: the record and why it was late (the operator's late output, as emitted). */
export interface LateSample {
  /** Processing time at which it was diverted, epoch ms. */
  at: number
  /** The operator's late record: `{ step, reason, time, watermark, record }` for windows and joins. */
  late: unknown
}

/**
 * A uniform sample of a step's late records (reservoir sampling, algorithm R): at most `capacity` kept,
 * however many arrive, each with the same chance of being kept. Costs one random number per late record.
 * @example
 * const r = new LateReservoir(16)
 * r.offer(lateBatch, Date.now())
 * r.samples() // up to 16, oldest first
 */
export class LateReservoir {
  readonly capacity: number
  /** Late records offered so far. */
  seen = 0
  private readonly kept: LateSample[] = []

  constructor(capacity = 16) {
    this.capacity = capacity
  }

  offer(batch: Batch, now: number): void {
    for (const v of batch.values) {
      this.seen++
      if (this.kept.length < this.capacity) this.kept.push({ at: now, late: v })
      else {
        const j = Math.floor(Math.random() * this.seen)
        if (j < this.capacity) this.kept[j] = { at: now, late: v }
      }
    }
  }

  samples(): LateSample[] {
    return [...this.kept].sort((a, b) => a.at - b.at)
  }
}
