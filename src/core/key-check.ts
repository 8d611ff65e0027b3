/** How deep a composite key (an array or plain object) may nest. */
const MAX_KEY_DEPTH = 16

/**
 * Why `k` cannot be a key, or undefined when it can. A key is a string, a number (not NaN), a boolean, a
 * bigint, null, or an array or plain object of those (no bigint inside: a composite key's identity is its
 * JSON). Named by type, never by content (keys may hold personal data).
 * @example keyProblem(NaN) // 'NaN'
 */
export function keyProblem(k: unknown): string | undefined {
  switch (typeof k) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return undefined
    case 'number':
      return k === k ? undefined : 'NaN'
    case 'undefined':
      return 'undefined'
    case 'symbol':
      return 'a Symbol'
    case 'function':
      return 'a function'
  }
  if (k === null) return undefined
  return compositeProblem(k as object, [], 0)
}

function compositeProblem(o: object, path: object[], depth: number): string | undefined {
  if (o instanceof Promise) return 'a Promise (key functions run synchronously)'
  const proto: unknown = Object.getPrototypeOf(o)
  if (proto !== Array.prototype && proto !== Object.prototype && proto !== null) return `a ${o.constructor?.name ?? 'class'} object (not an array or plain object)`
  if (path.includes(o)) return 'a cyclic object'
  if (depth >= MAX_KEY_DEPTH) return `an object nested deeper than ${MAX_KEY_DEPTH} levels`
  path.push(o)
  try {
    for (const v of Array.isArray(o) ? o : Object.values(o)) {
      switch (typeof v) {
        case 'string':
        case 'boolean':
          continue
        case 'number':
          if (v !== v) return 'an object holding NaN'
          continue
        case 'bigint':
          return 'an object holding a bigint (a bigint key must stand alone)'
        case 'undefined':
          return 'an object holding undefined'
        case 'symbol':
        case 'function':
          return `an object holding a ${typeof v}`
      }
      if (v === null) continue
      const bad = compositeProblem(v as object, path, depth + 1)
      if (bad !== undefined) return bad
    }
    // Symbol-keyed properties are not part of a JSON identity: two different keys would look the same.
    if (Object.getOwnPropertySymbols(o).length > 0) return 'an object with Symbol properties'
    return undefined
  } finally {
    path.pop()
  }
}
