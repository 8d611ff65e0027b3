import { userError } from '../../core/errors.ts'
import type { StateRow } from '../../core/operator.ts'
import type { WindowAssigner } from './assigners.ts'

/**
 * The window a state row names for writeSavepoint, checked against the step's assigner: `{ start, end }` in
 * epoch ms, one of the windows the assigner gives (any bounds for merging sessions). Only event-time windows
 * with bounds of their own can be written: count, global and processing-time windows cannot.
 * @example const { start, end } = bootstrapWindow(row, window.tumbling({ size: '1h' }), 'hourly')
 */
export function bootstrapWindow(row: StateRow, assigner: WindowAssigner, step: string): { start: number; end: number } {
  if (assigner.time === 'processing' || assigner.boundsFromRecords === true || assigner.kind === 'global') {
    const what = assigner.time === 'processing' ? 'processing-time' : assigner.kind
    throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': writeSavepoint writes event-time windows with bounds of their own (tumbling, sliding, session), not ${what} windows`, { step })
  }
  const w = row.window as Partial<{ start: unknown; end: unknown }> | undefined
  const at = `the state row of key ${keyLabel(row.key)}`
  if (typeof w !== 'object' || w === null || typeof w.start !== 'number' || typeof w.end !== 'number' || !Number.isFinite(w.start) || !Number.isFinite(w.end) || w.start >= w.end) {
    throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': ${at} needs window: { start, end }, epoch ms with start < end`, { step })
  }
  const { start, end } = w as { start: number; end: number }
  if (!assigner.merging) {
    const bounds: number[] = []
    assigner.assign(start, bounds)
    let found = false
    for (let b = 0; b < bounds.length; b += 2) if (bounds[b] === start && bounds[b + 1] === end) found = true
    if (!found) throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': ${at} has window [${start}, ${end}), which is not one of this step's ${assigner.kind} windows`, { step, hint: `the windows that hold time ${start} are ${pairs(bounds)}` })
  }
  return { start, end }
}

/** The error for two state rows naming one window of one key. */
export function twoRows(step: string, key: unknown, start: number, end: number): Error {
  return userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': two state rows for window [${start}, ${end}) of key ${keyLabel(key)}`, { step })
}

/** A key as an error message names it: as JSON (a string quoted), or as text when JSON has no form for it. */
export function keyLabel(key: unknown): string {
  return JSON.stringify(key) ?? String(key)
}

/** Bounds `[s0, e0, s1, e1, ...]` as text: `[s0, e0), [s1, e1)`. */
function pairs(bounds: number[]): string {
  const out: string[] = []
  for (let b = 0; b < bounds.length; b += 2) out.push(`[${bounds[b]}, ${bounds[b + 1]})`)
  return out.join(', ')
}
