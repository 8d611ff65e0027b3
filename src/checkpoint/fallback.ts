import { SluiceError } from '../core/errors.ts'
import type { SkippedCheckpoint } from './storage.ts'

/**
 * Names what holds output committed after checkpoint `restored` (undefined: after nothing, a start from scratch)
 * that a restore cannot take back: an append-only log sink, the dead-letter topic. Empty when a restore to
 * `restored` can be exact.
 */
export type LaterCommits = (restored: number | undefined) => Promise<string[]>

/**
 * Decides whether a restore may skip the damaged checkpoints `skipped` and fall back to `restored` (or start
 * from scratch): it may when nothing the skipped ones committed would be written again, or when duplicates are
 * accepted (then a warning says what will be written twice). Otherwise it refuses, naming the choices.
 */
export async function checkFallback(o: {
  dir: string
  skipped: readonly SkippedCheckpoint[]
  restored: number | undefined
  laterCommits: LaterCommits | undefined
  acceptDuplicates: boolean
  warn: (msg: string) => void
}): Promise<void> {
  if (o.skipped.length === 0) return
  const ids = o.skipped.map((s) => s.id).join(', ')
  const target = o.restored === undefined ? 'starting from scratch' : `falling back to checkpoint ${o.restored}`
  const held = (await o.laterCommits?.(o.restored)) ?? []
  if (held.length === 0) {
    if (o.restored === undefined) o.warn(`starting from scratch: every checkpoint in '${o.dir}' is damaged (${ids}); the sinks take back what they committed, so the output stays exact`)
    return
  }
  const what = `${held.join(' and ')} hold${held.length === 1 ? 's' : ''} output committed after ${o.restored === undefined ? 'the start' : `checkpoint ${o.restored}`}, which a restore cannot take back`
  if (o.acceptDuplicates) {
    o.warn(`${target} past damaged checkpoint${o.skipped.length > 1 ? 's' : ''} ${ids} in '${o.dir}' (--accept-duplicates): ${what}; it will be written again`)
    return
  }
  throw new SluiceError('SLUICE_CHECKPOINT_FALLBACK_REFUSED', `checkpoint${o.skipped.length > 1 ? 's' : ''} ${ids} in '${o.dir}' ${o.skipped.length > 1 ? 'are' : 'is'} damaged, and ${target} would duplicate output: ${what}`, {
    domain: 'external',
    hint: 'restore from a savepoint (sluice run --restore-from <savepoint folder>), or restore anyway and accept that output written twice (sluice run --accept-duplicates)',
  })
}
