/**
 * Combines the watermarks of the N subtasks that feed one input of a vertex: the minimum over subtasks that
 * are not idle, moving forward only. `update` returns what to pass on, if anything changed.
 */
export class SubtaskWatermarks {
  private readonly wm: number[]
  private readonly idle: boolean[]
  private current = -Infinity
  private isIdle = false

  constructor(subtasks: number) {
    this.wm = new Array<number>(subtasks).fill(-Infinity)
    this.idle = new Array<boolean>(subtasks).fill(false)
  }

  watermark(subtask: number, wm: number): { wm: number } | 'idle' | undefined {
    this.idle[subtask] = false
    if (wm > this.wm[subtask]) this.wm[subtask] = wm
    return this.combine()
  }

  markIdle(subtask: number): { wm: number } | 'idle' | undefined {
    this.idle[subtask] = true
    return this.combine()
  }

  private combine(): { wm: number } | 'idle' | undefined {
    let min = Infinity
    let active = false
    for (let i = 0; i < this.wm.length; i++) {
      if (this.idle[i]) continue
      active = true
      if (this.wm[i] < min) min = this.wm[i]
    }
    if (!active) {
      if (this.isIdle) return undefined
      this.isIdle = true
      return 'idle'
    }
    const wasIdle = this.isIdle
    this.isIdle = false
    if (min > this.current) {
      this.current = min
      return { wm: min }
    }
    // Back from idle: the consumer must count this input again.
    return wasIdle ? { wm: this.current } : undefined
  }
}
