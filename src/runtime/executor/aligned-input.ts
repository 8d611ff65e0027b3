/** Where an aligned input delivers: records, watermarks and idleness, in the order the consumer must see them. */
export interface AlignedOutput<T> {
  data(item: T): void
  watermark(wm: number): void
  idle(): void
}

/**
 * One input of a vertex fed by the N subtasks of a producer. The watermark passed on is the minimum over
 * subtasks that are not idle, moving forward only. Records are aligned with it: a record that subtask i sent
 * after its watermark w is held until the combined watermark reaches w, so the consumer sees it with the
 * watermark it would have had with one subtask (where every record comes after the watermarks before it).
 * Without this, a record emitted behind the watermark (a late update, a timer's output) could be late or on
 * time downstream depending on how fast the other subtasks are. Held records are bounded by how far one
 * subtask can run ahead of the slowest, which the channel credits bound.
 */
export class AlignedInput<T> {
  private readonly out: AlignedOutput<T>
  private readonly wm: number[]
  private readonly idleSub: boolean[]
  private current = -Infinity
  private isIdle = false
  private held: { level: number; item: T; from: number }[] = []
  /** Items held back per subtask that sent them. */
  private readonly heldPer: number[]

  constructor(subtasks: number, out: AlignedOutput<T>) {
    this.out = out
    this.wm = new Array<number>(subtasks).fill(-Infinity)
    this.idleSub = new Array<boolean>(subtasks).fill(false)
    this.heldPer = new Array<number>(subtasks).fill(0)
  }

  /** Items that subtask `subtask` sent and that are held back (its sender may be asked to wait while there are many). */
  heldFrom(subtask: number): number {
    return this.heldPer[subtask] ?? 0
  }

  /** Records held back, waiting for the other subtasks' watermarks. */
  get heldCount(): number {
    return this.held.length
  }

  /** The records held back, with the watermark each waits for, in arrival order (a checkpoint saves them). */
  heldItems(): { level: number; item: T }[] {
    return this.held.map((h) => ({ level: h.level, item: h.item }))
  }

  /** Each channel's watermark (a checkpoint saves them with the held records). */
  channelWatermarks(): number[] {
    return this.wm.slice()
  }

  /** Before any data: the channels' watermarks and the combined one as a checkpoint saved them. */
  restore(wms: readonly number[], current: number): void {
    for (let i = 0; i < this.wm.length; i++) this.wm[i] = wms[i] ?? Math.min(...wms)
    this.current = current
  }

  /** Holds `item` until the combined watermark reaches `level` (records restored from a checkpoint). */
  hold(level: number, item: T): void {
    if (level <= this.current || this.isIdle) this.out.data(item)
    else this.held.push({ level, item, from: -1 })
  }

  /** Delivers every held record now, without moving the watermark (a stopped run drains what it read). */
  releaseAll(): void {
    const held = this.held
    this.held = []
    this.heldPer.fill(0)
    held.sort((a, b) => a.level - b.level)
    for (const h of held) this.out.data(h.item)
  }

  data(subtask: number, item: T): void {
    const level = this.wm[subtask]
    if (level <= this.current || this.isIdle) {
      this.out.data(item)
    } else {
      this.held.push({ level, item, from: subtask })
      this.heldPer[subtask]++
    }
  }

  watermark(subtask: number, wm: number): void {
    this.idleSub[subtask] = false
    if (wm > this.wm[subtask]) this.wm[subtask] = wm
    this.combine()
  }

  markIdle(subtask: number): void {
    this.idleSub[subtask] = true
    this.combine()
  }

  private combine(): void {
    let min = Infinity
    let active = false
    for (let i = 0; i < this.wm.length; i++) {
      if (this.idleSub[i]) continue
      active = true
      if (this.wm[i] < min) min = this.wm[i]
    }
    const upTo = active ? min : Infinity
    if (this.held.length > 0 && this.held.some((h) => h.level <= upTo)) {
      const ready = this.held.filter((h) => h.level <= upTo)
      this.held = this.held.filter((h) => h.level > upTo)
      // Stable sort: by watermark level, in arrival order within a level.
      ready.sort((a, b) => a.level - b.level)
      for (const h of ready) {
        if (h.from >= 0) this.heldPer[h.from]--
        if (h.level > this.current) {
          this.current = h.level
          this.isIdle = false
          this.out.watermark(h.level)
        }
        this.out.data(h.item)
      }
    }
    if (!active) {
      if (!this.isIdle) {
        this.isIdle = true
        this.out.idle()
      }
      return
    }
    const wasIdle = this.isIdle
    this.isIdle = false
    if (min > this.current) {
      this.current = min
      this.out.watermark(min)
    } else if (wasIdle) {
      // Back from idle: the consumer must count this input again.
      this.out.watermark(this.current)
    }
  }
}
