import { SluiceError } from '../../core/errors.ts'

/** After this long a pending write is reported as stuck (progress line). */
export const STUCK_AFTER_MS = 5000
const TICK_MS = 1000

export interface WriteWatch {
  /** Fails the job when a write has not settled after this long. */
  timeoutMs: number
  /** After a stop was asked for, fails the job when a write has still not settled after this long. */
  stopTimeoutMs: number
  signal: AbortSignal
  /** The step of each pending write (sinks, the dead-letter writer). */
  stepOf: WeakMap<Promise<void>, string>
  /** Called about once a second while a write is stuck, with its step and how long it has waited. */
  onStuck?: (step: string, ms: number) => void
}

/**
 * Waits for the pending writes, bounded: a write that never settles fails the job with SLUICE_SINK_TIMEOUT
 * (after `timeoutMs`, or `stopTimeoutMs` once a stop is asked for) instead of hanging, or of letting the
 * process exit with nothing left to wait on. The timer is only set when a write is still pending.
 */
export async function settleWithin(pending: Promise<void>[], w: WriteWatch): Promise<void> {
  if (pending.length === 0) return
  const all = Promise.all(pending)
  const done = new Set<Promise<void>>()
  for (const p of pending) {
    void p.then(
      () => done.add(p),
      () => done.add(p),
    )
  }
  let settled = false
  void all.then(
    () => (settled = true),
    () => (settled = true),
  )
  // Writes that settle at once (most) cost no timer.
  await Promise.resolve()
  if (settled) return void (await all)
  const t0 = performance.now()
  let stopAt: number | undefined
  let timer: NodeJS.Timeout | undefined
  const watch = new Promise<never>((_, reject) => {
    const tick = (): void => {
      const now = performance.now()
      const waited = now - t0
      const open = pending.find((p) => !done.has(p) && w.stepOf.has(p))
      const step = open !== undefined ? w.stepOf.get(open)! : 'a sink'
      if (w.signal.aborted) stopAt ??= now
      if (waited >= w.timeoutMs) return reject(timeout(step, waited, 'sinkWriteTimeout'))
      if (stopAt !== undefined && now - stopAt >= w.stopTimeoutMs) return reject(timeout(step, waited, 'stopTimeout'))
      if (waited >= STUCK_AFTER_MS) w.onStuck?.(step, waited)
      timer = setTimeout(tick, Math.min(TICK_MS, w.timeoutMs - waited))
    }
    timer = setTimeout(tick, Math.min(TICK_MS, w.timeoutMs))
  })
  try {
    await Promise.race([all, watch])
  } finally {
    clearTimeout(timer)
  }
}

function timeout(step: string, ms: number, option: string): SluiceError {
  return new SluiceError('SLUICE_SINK_TIMEOUT', `a write of '${step}' has not finished after ${(ms / 1000).toFixed(0)} s`, {
    domain: 'external',
    step,
    retryable: true,
    hint: `check the system the sink writes to; the pipeline option ${option} sets how long a write may take`,
  })
}
