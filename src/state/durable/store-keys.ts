import { userError } from '../../core/errors.ts'
import type { Namespace } from '../../core/state-backend.ts'

/*
 * Store keys are ordered tuples `[keyGroup, state, namespace, id]`: one key group's state is one
 * contiguous range of the store, so a snapshot or a restore of a key group range is a range scan.
 * Key identities keep their type: bigint, null and undefined, which the store's key order cannot hold,
 * become tagged strings, and strings that start with the tag character are escaped.
 */

const TAG = '\u0000'

export type StoreId = string | number | boolean
export type StoreKey = (string | number | boolean)[] & [number, number, Namespace, StoreId]

export function encodeId(id: unknown): StoreId {
  switch (typeof id) {
    case 'string':
      return id.startsWith(TAG) ? `${TAG}s${id}` : id
    case 'number':
    case 'boolean':
      return id
    case 'bigint':
      return `${TAG}n${id.toString()}`
    case 'undefined':
      return `${TAG}u`
    default:
      if (id === null) return `${TAG}z`
      throw userError('SLUICE_STATE_KEY', 'state: a key identity must be a primitive (use keyId(key))')
  }
}

export function decodeId(k: StoreId): unknown {
  if (typeof k !== 'string' || !k.startsWith(TAG)) return k
  switch (k[1]) {
    case 's':
      return k.slice(2)
    case 'n':
      return BigInt(k.slice(2))
    case 'z':
      return null
    default:
      return undefined
  }
}
