import { userError } from '../../core/errors.ts'
import type { StateRow } from '../../core/operator.ts'
import { keyLabel } from '../window/bootstrap-window.ts'

/**
 * The records of both sides a join's state row gives writeSavepoint: `value: { left: [...], right: [...] }`,
 * either array left out for none. Copies of the arrays, so the rows given stay the caller's.
 * @example const { left, right } = bootstrapSides({ key: 7, value: { right: [{ id: 7 }] } }, 'enrich')
 */
export function bootstrapSides(row: StateRow, step: string): { left: unknown[]; right: unknown[] } {
  const v = (row.value ?? undefined) as { left?: unknown; right?: unknown } | undefined
  const left = v?.left ?? []
  const right = v?.right ?? []
  if (typeof v !== 'object' || !Array.isArray(left) || !Array.isArray(right)) {
    throw userError('SLUICE_STATE_BOOTSTRAP', `step '${step}': the state row of key ${keyLabel(row.key)} needs value: { left: [records], right: [records] }`, { step })
  }
  return { left: [...left], right: [...right] }
}
