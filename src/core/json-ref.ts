/**
 * Follows a JSON Schema's local `$ref` (`#`, `#/$defs/Money`, `#/definitions/x`) within `root`, through
 * chains of refs; keywords beside the `$ref` are kept over the target's. Returns the schema itself when it
 * has no `$ref`, and undefined when the ref is not local or does not resolve (or loops).
 * @example resolveLocalRef({ $ref: '#/$defs/id' }, { $defs: { id: { type: 'integer' } } }) // { type: 'integer' }
 */
export function resolveLocalRef(schema: unknown, root: unknown): unknown {
  let cur = schema
  for (let hops = 0; isObject(cur) && typeof cur.$ref === 'string'; hops++) {
    if (hops > 64) return undefined
    const target = pointer(root, cur.$ref)
    if (target === undefined) return undefined
    const { $ref: _, ...beside } = cur
    cur = Object.keys(beside).length === 0 || !isObject(target) ? target : { ...target, ...beside }
  }
  return cur
}

function pointer(root: unknown, ref: string): unknown {
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  let at = root
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~')
    if (!isObject(at) && !Array.isArray(at)) return undefined
    at = (at as Record<string, unknown>)[key]
    if (at === undefined) return undefined
  }
  return at
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x)
}
