import type { z } from 'zod'
import type { RecordValidator, Violation } from './validator.ts'

/**
 * Whether a zod schema holds checks its JSON Schema cannot say: `refine` and `superRefine` (custom checks),
 * anywhere inside it. Those contracts are checked by zod itself after the compiled JSON Schema check.
 * @example hasRefinements(z.object({ price: z.number().refine((p) => p % 5 === 0) })) // true
 */
export function hasRefinements(schema: z.ZodType): boolean {
  const seen = new Set<unknown>()
  const walk = (s: unknown): boolean => {
    const def = (s as { _zod?: { def?: Record<string, any> } } | null)?._zod?.def
    if (def === undefined || seen.has(s)) return false
    seen.add(s)
    if (Array.isArray(def.checks) && def.checks.some((c: { _zod?: { def?: { check?: string } } }) => c?._zod?.def?.check === 'custom')) return true
    if (def.type === 'custom') return true
    const inner: unknown[] = [def.innerType, def.element, def.keyType, def.valueType, def.in, def.out, def.left, def.right, def.rest, ...(def.options ?? []), ...(def.items ?? [])]
    if (def.shape !== undefined) inner.push(...Object.values(def.shape as object))
    if (def.type === 'lazy' && typeof def.getter === 'function') inner.push(def.getter())
    return inner.some((x) => x !== undefined && walk(x))
  }
  return walk(schema)
}

/**
 * A validator that runs `fast` (the compiled JSON Schema and field rules) and then, for a record that passed,
 * zod itself: a failed refinement is the rule `refine` with the refinement's own message (write messages that
 * hold no record values), at the path zod gives.
 * @example withRefinements(fast, schema).check({ price: 7 }) // { path: '/price', rule: 'refine', detail: 'fails a refinement: ...' }
 */
export function withRefinements(fast: RecordValidator, schema: z.ZodType): RecordValidator {
  return {
    check(value) {
      const v = fast.check(value)
      if (v !== undefined) return v
      const r = schema.safeParse(value)
      if (r.success) return undefined
      const issue = r.error.issues[0]
      const path = issue.path.length === 0 ? '' : `/${issue.path.map(String).join('/')}`
      const custom = issue.code === 'custom'
      return { path, rule: custom ? 'refine' : issue.code, detail: custom ? `fails a refinement: ${issue.message}` : issue.message } satisfies Violation
    },
  }
}
