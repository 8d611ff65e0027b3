/** Keys that `keyBy` may return: a primitive, or a tuple of primitives for composite keys. */
export type KeyPrimitive = string | number | boolean | bigint
/**
 * What `keyBy` may return: a primitive, or a tuple of primitives for a composite key.
 * @example stream.keyBy((o) => [o.country, o.city] as const)
 */
export type Key = KeyPrimitive | readonly KeyPrimitive[]

/** Number of key groups: the unit of state redistribution when parallelism changes (Flink's max parallelism). */
export const DEFAULT_KEY_GROUPS = 128

/** A value usable as a Map key that identifies the key: primitives as they are, tuples as a string. */
export function keyId(k: unknown): unknown {
  return typeof k === 'object' && k !== null ? JSON.stringify(k) : k
}

function mix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function hashString(s: string, seed: number): number {
  let h = seed ^ 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return mix32(h)
}

/** A stable 32-bit hash of a key, the same in every process and on every run. */
export function hashKey(k: unknown): number {
  switch (typeof k) {
    case 'number':
      if (Number.isInteger(k) && k >= -0x80000000 && k <= 0xffffffff) return mix32(k | 0)
      return hashString(String(k), 1)
    case 'string':
      return hashString(k, 0)
    case 'boolean':
      return k ? 0x9e3779b9 : 0x7f4a7c15
    case 'bigint':
      return hashString(k.toString(), 2)
    default:
      // Seeded like a string: a tuple hashes as its identity `keyId(k)`, so state (which sees only the
      // identity) finds the same key group as the router that saw the key.
      return hashString(JSON.stringify(k) ?? 'undefined', 0)
  }
}

export function keyGroupOf(k: unknown, keyGroups: number = DEFAULT_KEY_GROUPS): number {
  return hashKey(k) % keyGroups
}

/** The subtask that owns a key group: contiguous ranges, as in Flink, so rescaling moves whole ranges. */
export function subtaskOfKeyGroup(keyGroup: number, parallelism: number, keyGroups: number = DEFAULT_KEY_GROUPS): number {
  return Math.floor((keyGroup * parallelism) / keyGroups)
}

export function subtaskOfKey(k: unknown, parallelism: number, keyGroups: number = DEFAULT_KEY_GROUPS): number {
  return subtaskOfKeyGroup(keyGroupOf(k, keyGroups), parallelism, keyGroups)
}
