import { userError } from '../core/errors.ts'

/**
 * Checks positions given to `seek` by a source whose position per partition is a sequence number (the
 * next record's index): one non-negative integer per partition. Returns them typed.
 */
export function checkSeek(kind: string, positions: unknown, partitions: number): number[] {
  if (!Array.isArray(positions) || positions.length !== partitions) {
    throw userError('SLUICE_BAD_POSITION', `source.${kind}: the checkpoint holds ${Array.isArray(positions) ? positions.length : 'no'} partition positions, the source has ${partitions} partitions`, {
      hint: 'restore with the source options the checkpoint was taken with',
    })
  }
  for (let p = 0; p < partitions; p++) {
    const at = positions[p]
    if (!Number.isSafeInteger(at) || (at as number) < 0) throw userError('SLUICE_BAD_POSITION', `source.${kind}: the position of partition ${p} must be a non-negative integer, got ${JSON.stringify(at)}`)
  }
  return positions as number[]
}
