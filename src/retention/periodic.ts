import { resolve } from 'node:path'
import { userError } from '../core/errors.ts'
import { applyRetention } from './apply.ts'
import { planRetention, type RetentionAction } from './plan.ts'
import type { ResolvedPolicy } from './policy.ts'

/** Where `sluice retention apply` and the periodic passes log deletions unless told otherwise. */
export const DEFAULT_RETENTION_LOG = '.sluice/retention.log'

/** The time a retention loop reads and waits on (a test clock in tests, so no test really waits). */
export interface RetentionClock {
  now(): number
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemRetentionClock: RetentionClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((done) => {
      if (signal?.aborted === true) return done()
      const t = setTimeout(end, Math.max(0, ms))
      signal?.addEventListener('abort', end, { once: true })
      function end(): void {
        clearTimeout(t)
        signal?.removeEventListener('abort', end)
        done()
      }
    }),
}

/**
 * One retention pass: plans at `now` and applies the plan, logging each deletion to `logFile` first.
 * @example const deleted = await retentionPass(policy, { logFile: '.sluice/retention.log', now: Date.now() })
 */
export async function retentionPass(policy: ResolvedPolicy, opts: { logFile: string; now: number; cwd?: string }): Promise<RetentionAction[]> {
  const cwd = opts.cwd ?? process.cwd()
  return applyRetention(await planRetention(policy, opts.now, cwd), resolve(cwd, opts.logFile), opts.now)
}

/** What a periodic retention loop reports after each pass. */
export interface RetentionPassReport {
  /** 1 for the first pass. */
  pass: number
  at: number
  actions: RetentionAction[]
}

export interface RetentionLoopOptions {
  logFile: string
  /** Time between the end of one pass and the start of the next. */
  everyMs: number
  cwd?: string
  clock?: RetentionClock
  /** Ends the loop: a pass under way finishes first (its deletions are not cut short). */
  signal?: AbortSignal
  onPass?: (report: RetentionPassReport) => void
  /** A pass that fails (a folder it cannot read, say); the loop goes on. Default: the loop rejects. */
  onError?: (e: unknown, pass: number) => void
}

/**
 * Applies `policy` at once, then every `everyMs`, until `signal` aborts; resolves with the number of passes.
 * @example
 * const stop = new AbortController()
 * const loop = retentionLoop(policy, { logFile: '.sluice/retention.log', everyMs: 3_600_000, signal: stop.signal })
 * stop.abort(); await loop
 */
export async function retentionLoop(policy: ResolvedPolicy, opts: RetentionLoopOptions): Promise<number> {
  if (!Number.isFinite(opts.everyMs) || opts.everyMs <= 0) throw userError('SLUICE_BAD_OPTION', 'the time between retention passes must be positive', { hint: "e.g. '1h'" })
  const clock = opts.clock ?? systemRetentionClock
  let pass = 0
  while (opts.signal?.aborted !== true) {
    pass++
    const at = clock.now()
    try {
      const actions = await retentionPass(policy, { logFile: opts.logFile, now: at, ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) })
      opts.onPass?.({ pass, at, actions })
    } catch (e) {
      if (opts.onError === undefined) throw e
      opts.onError(e, pass)
    }
    await clock.sleep(opts.everyMs, opts.signal)
  }
  return pass
}

/** A checkpoint folder a running job writes, and how many complete checkpoints it keeps there. */
export interface HeldCheckpoints {
  job: string
  dir: string
  keep: number
}

/**
 * Refuses a policy that would keep fewer checkpoints in a running job's folder than the job keeps itself:
 * it would delete the checkpoints the job may restore from.
 * @example refuseUnsafeCheckpoints(policy, [{ job: 'orders', dir: 'state/orders', keep: 3 }])
 */
export function refuseUnsafeCheckpoints(policy: ResolvedPolicy, held: readonly HeldCheckpoints[], cwd = process.cwd()): void {
  policy.checkpoints.forEach((c, i) => {
    const dir = resolve(cwd, c.dir)
    for (const h of held) {
      if (resolve(cwd, h.dir) !== dir || c.keep >= h.keep) continue
      throw userError('SLUICE_BAD_OPTION', `retention policy: checkpoints[${i}] keeps ${c.keep} checkpoints of '${c.dir}', where the running job '${h.job}' keeps ${h.keep}`, {
        hint: `set keep to at least ${h.keep} (or leave that folder to the job, which keeps its newest ${h.keep} itself)`,
      })
    }
  })
}

/**
 * The policy without the `logs` entries naming a file that a running job appends to (its lineage file, say):
 * trimming rewrites the file, and lines the job appended meanwhile would be lost. Returns the entries left out.
 * @example const { policy: safe, left } = leaveHeldLogs(policy, [{ job: 'orders', path: 'lineage/events.ndjson' }])
 */
export function leaveHeldLogs(policy: ResolvedPolicy, held: readonly { job: string; path: string }[], cwd = process.cwd()): { policy: ResolvedPolicy; left: { job: string; path: string }[] } {
  const left: { job: string; path: string }[] = []
  const logs = policy.logs.filter((l) => {
    const h = held.find((x) => resolve(cwd, x.path) === resolve(cwd, l.path))
    if (h !== undefined) left.push({ job: h.job, path: l.path })
    return h === undefined
  })
  return { policy: { ...policy, logs }, left }
}
