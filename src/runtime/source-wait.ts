import type { Progress } from './run-types.ts'
import type { SourceRunner } from './source-runner.ts'
import type { TaskGraph } from './task-graph.ts'

/** Progress of a run from its source runners: records in, rate, the lowest source watermark, lag. */
export function progressOf(runners: SourceRunner[], elapsedMs: number, now: number): Progress {
  const recordsIn = runners.reduce((a, r) => a + r.recordsIn, 0)
  const watermark = Math.min(...runners.map((r) => r.vertex.watermark))
  return { recordsIn, recordsPerSecond: elapsedMs > 0 ? (recordsIn * 1000) / elapsedMs : 0, watermark, lagMs: Number.isFinite(watermark) ? now - watermark : NaN, elapsedMs }
}

/**
 * Waits until a source has data, a processing-time timer is due, a partition may turn idle, or one of
 * `also` settles (a stop, a message from a worker).
 */
export async function waitForSources(runners: SourceRunner[], graph: TaskGraph, now: number, also: Promise<unknown>[]): Promise<void> {
  const waits: Promise<unknown>[] = [...runners.flatMap((r) => r.waitables()), ...also]
  const wakeAt = Math.min(graph.nextProcessingTimer(), ...runners.map((r) => r.nextIdleCheck()))
  // With nothing pending and no timer, poll again shortly (a source that returned null without a promise).
  const delay = waits.length === also.length && wakeAt === Infinity ? 10 : wakeAt - now
  let timer: NodeJS.Timeout | undefined
  if (Number.isFinite(delay)) waits.push(new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, Math.min(delay, 1000))))))
  await Promise.race(waits)
  if (timer !== undefined) clearTimeout(timer)
}
