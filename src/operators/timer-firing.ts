import type { TimerService } from '../core/state-backend.ts'

/**
 * Fires the due timers of a queue key by key, and can stop between two keys and go on later (a pausable step's
 * firing, see `PausableBatches`): the timers taken from the queue but not fired yet wait here meanwhile.
 * @example
 * const firing = new TimerFiring()
 * if (!firing.fire(timers, watermark, (time, id, key) => fireKey(time, id, key), () => this.looked(), () => cache.flush())) {
 *   // stopped: call fire again with the same queue and time to go on
 * }
 */
export class TimerFiring {
  private held: { time: number; keys: MapIterator<[unknown, unknown]>; next: [unknown, unknown] | undefined } | undefined = undefined

  /**
   * Fires the timers of `queue` due up to `upTo`: `fn(time, keyId, key)` per key, `afterTime()` once the keys of
   * a time are done. With `stop` (asked before every key but the first of a call): false when it said to stop;
   * the keys not fired yet fire on the next call, which must pass the same queue and `upTo`.
   */
  fire(queue: TimerService, upTo: number, fn: (time: number, id: unknown, key: unknown) => void, stop?: () => boolean, afterTime?: () => void): boolean {
    let first = true
    for (;;) {
      let cur = this.held
      this.held = undefined
      if (cur === undefined) {
        const due = queue.pollUpTo(upTo)
        if (due === undefined) return true
        cur = { time: due.time, keys: due.keys.entries(), next: undefined }
      }
      for (let e = cur.next ?? cur.keys.next().value; e !== undefined; e = cur.keys.next().value) {
        if (!first && stop !== undefined && stop()) {
          this.held = { time: cur.time, keys: cur.keys, next: e }
          return false
        }
        first = false
        fn(cur.time, e[0], e[1])
      }
      afterTime?.()
    }
  }
}
