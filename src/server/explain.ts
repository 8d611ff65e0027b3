import type { JobInspector } from '../runtime/job/types.ts'

/** A partition that has read nothing for this long while not idle is shown as stuck. */
export const STUCK_MS = 10_000

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null)

/** Each source partition's watermark, with idle, ended and stuck ones marked, and the ones holding the source's watermark. */
export function partitionWatermarks(inspector: JobInspector, now: number) {
  return inspector.sources().map((s) => {
    const active = s.partitions.filter((p) => !p.idle && !p.ended)
    const min = Math.min(...active.map((p) => p.watermark))
    return {
      step: s.step,
      partitions: s.partitions.map((p) => ({
        partition: p.partition,
        watermark: finite(p.watermark),
        idle: p.idle,
        ended: p.ended,
        silentMs: Math.max(0, now - p.lastDataAt),
        stuck: !p.idle && !p.ended && now - p.lastDataAt >= STUCK_MS,
        holding: !p.idle && !p.ended && active.length > 1 && p.watermark === min,
      })),
    }
  })
}

/** Why a window has (not) fired: see `explainWindow`. */
export interface WindowExplanation {
  step: string
  key: string
  time: number
  watermark: number | null
  trigger: Record<string, unknown>
  allowedLateness: number
  keyFound: boolean
  windows: { start: number; end: number; firesAt: number | null; state: 'open' | 'fired' | 'closed' | 'waiting' | 'empty'; records: boolean; why: string }[]
  /** The step's inputs: the active one with the lowest watermark holds the step's watermark back. */
  inputs: { from: string; watermark: number | null; idle: boolean; holdingBack: boolean }[]
  /** Source partitions whose watermark is below the first window's firing time (idle ones do not hold it back). */
  holdingPartitions: { step: string; partition: number; watermark: number | null; stuck: boolean; silentMs: number }[]
  verdict: string
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : String(t))

/**
 * Explains, for a key and an event time, the windows of a window step: each window's bounds and state, the
 * step's watermark, which inputs and source partitions hold it back, and the trigger. Undefined when `step`
 * is not a window step of the job (or the job is not running).
 * @example (await explainWindow(job.inspect(), 'per-region', 'eu', Date.now(), Date.now()))?.verdict
 */
export async function explainWindow(inspector: JobInspector, step: string, key: string, time: number, now: number): Promise<WindowExplanation | undefined> {
  const w = await inspector.window(step, key, time)
  if (w === undefined) return undefined
  const eventTrigger = w.trigger.kind === 'event-time'
  const wm = w.watermark
  const spans = w.assigned.length > 0 ? w.assigned : w.open.filter((s) => s.start <= time && time < s.end)
  const windows = spans.map(({ start, end }) => {
    const slot = w.open.find((s) => s.start === start && s.end === end)
    const firesAt = eventTrigger ? end - 1 : null
    const closesAt = end - 1 + w.allowedLateness
    let state: WindowExplanation['windows'][number]['state']
    let why: string
    if (slot?.fired === true && slot.pending !== true) {
      state = 'fired'
      why = `fired; it stays open for late records until the watermark passes ${iso(closesAt)}`
    } else if (closesAt <= wm) {
      state = 'closed'
      why = `closed: the watermark ${iso(wm)} passed its end (plus allowed lateness); it fired if it held records, and a record for it now is late`
    } else if (firesAt !== null && firesAt > wm) {
      state = slot === undefined ? 'empty' : 'waiting'
      why = `${slot === undefined ? 'no record of this key in it yet; ' : ''}fires when the watermark reaches ${iso(firesAt)}; it is at ${Number.isFinite(wm) ? iso(wm) : 'none yet'}${Number.isFinite(wm) ? `, ${Math.round(firesAt - wm)} ms behind` : ''}`
    } else {
      state = slot === undefined ? 'empty' : 'open'
      why = eventTrigger ? 'the watermark has reached its end: it fires on its next record or timer' : `its trigger (${String(w.trigger.kind)}) decides when it fires; trigger state ${slot?.triggerState ?? 0}`
    }
    return { start, end, firesAt, state, records: slot !== undefined, why }
  })
  const steps = inspector.watermarks()
  const me = steps.find((s) => s.step === step || s.steps.includes(step))
  const active = (me?.inputs ?? []).filter((i) => !i.idle)
  const lowest = Math.min(...active.map((i) => i.watermark))
  const inputs = (me?.inputs ?? []).map((i) => ({ from: i.from, watermark: finite(i.watermark), idle: i.idle, holdingBack: !i.idle && i.watermark === lowest }))
  const firstFire = Math.min(...windows.filter((x) => x.state === 'waiting' || x.state === 'empty').map((x) => x.firesAt ?? Infinity))
  const holdingPartitions = Number.isFinite(firstFire)
    ? partitionWatermarks(inspector, now).flatMap((s) => s.partitions.filter((p) => !p.idle && !p.ended && (p.watermark ?? -Infinity) < firstFire).map((p) => ({ step: s.step, partition: p.partition, watermark: p.watermark, stuck: p.stuck, silentMs: p.silentMs })))
    : []
  const waiting = windows.find((x) => x.state === 'waiting' || x.state === 'empty')
  const verdict =
    windows.length === 0
      ? 'no window of this step holds this time'
      : waiting !== undefined
        ? `not fired: ${waiting.why}${holdingPartitions.length > 0 ? `; held back by ${holdingPartitions.map((p) => `${p.step} partition ${p.partition}${p.stuck ? ' (stuck)' : ''}`).join(', ')}` : ''}`
        : windows.map((x) => x.why).join('; ')
  return { step, key, time, watermark: finite(wm), trigger: w.trigger, allowedLateness: w.allowedLateness, keyFound: w.keyFound, windows, inputs, holdingPartitions, verdict }
}
