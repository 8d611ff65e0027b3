import { userError } from '../core/errors.ts'
import type { ProtectDescription } from './protect.ts'
import type { FieldTransform } from './transforms/transform.ts'

/** What `protectPersonal` needs of a contract: its name and the paths of its personal fields. */
export interface PersonalFields {
  readonly name: string
  readonly personal: readonly string[]
}

/**
 * A `map` function that applies a default transform to every field a contract tags personal (dotted paths
 * reach into nested objects), with per-field overrides; other fields are untouched. Lineage marks each of
 * those fields masked, as for `protect`.
 * @example p.from(withContract(source.jsonl('customers.jsonl'), customerContract)).map(privacy.protectPersonal(customerContract, { default: privacy.hash({ keys }), fields: { card: privacy.mask({ keepLast: 4 }) } }))
 */
export function protectPersonal<T extends object>(c: PersonalFields, options: { default: FieldTransform; fields?: Record<string, FieldTransform> }): ((record: T) => T) & { describe: () => ProtectDescription } {
  if (c === null || typeof c !== 'object' || !Array.isArray(c.personal)) throw userError('SLUICE_BAD_ARGUMENT', 'protectPersonal needs a contract')
  if (options?.default === undefined || typeof options.default.apply !== 'function') throw userError('SLUICE_BAD_ARGUMENT', `protectPersonal (contract '${c.name}') needs a default transform`, { hint: 'e.g. { default: privacy.redact() }' })
  const overrides = options.fields ?? {}
  for (const f of Object.keys(overrides)) {
    if (!c.personal.includes(f)) throw userError('SLUICE_BAD_ARGUMENT', `protectPersonal: field '${f}' is not personal in contract '${c.name}'`, { hint: `its personal fields are: ${c.personal.join(', ') || 'none'}` })
  }
  const plan = c.personal.map((path) => ({ path: path.split('.'), t: overrides[path] ?? options.default }))
  const fn = (record: T): T => {
    if (record === null || typeof record !== 'object') return record
    const out: Record<string, unknown> = { ...(record as Record<string, unknown>) }
    for (const { path, t } of plan) apply(out, path, 0, t)
    return out as T
  }
  const describe = (): ProtectDescription => ({ fields: Object.fromEntries(plan.map(({ path, t }) => [path.join('.'), t.describe()])) })
  return Object.assign(fn, { describe })
}

/** Transforms the value at `path` in `o` (a copy of the objects on the way, never the input's). */
function apply(o: Record<string, unknown>, path: readonly string[], i: number, t: FieldTransform): void {
  const k = path[i]
  if (!(k in o)) return
  if (i === path.length - 1) {
    o[k] = t.apply(o[k])
    return
  }
  const next = o[k]
  if (next === null || typeof next !== 'object' || Array.isArray(next)) return
  const copy = { ...(next as Record<string, unknown>) }
  o[k] = copy
  apply(copy, path, i + 1, t)
}
