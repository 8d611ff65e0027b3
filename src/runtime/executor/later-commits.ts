import type { LaterCommits } from '../../checkpoint/fallback.ts'
import type { LetterWriter } from '../../dlq/letter-writer.ts'
import type { PhysicalPlan } from '../../plan/physical-plan.ts'

/**
 * What of a run holds output committed after a checkpoint that a restore cannot take back: its append-only sinks
 * (named whatever they committed: they cannot tell) and the dead-letter topic when letters were committed later.
 */
export function laterCommits(plan: PhysicalPlan, deadLetters: LetterWriter | undefined): LaterCommits {
  return async (restored) => {
    const held: string[] = []
    for (const v of plan.vertices) {
      for (const s of v.steps) if (s.impl.role === 'sink' && s.impl.sink.appendOnly === true) held.push(`sink '${s.id}' (${s.impl.sink.kind}, append-only)`)
    }
    if (deadLetters !== undefined) {
      const n = await deadLetters.committedAfter(restored)
      if (n > 0) held.push(`dead-letter topic '${deadLetters.topic}' (${n} letter${n === 1 ? '' : 's'})`)
    }
    return held
  }
}
