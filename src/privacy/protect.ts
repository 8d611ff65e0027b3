import { userError } from '../core/errors.ts'
import type { FieldTransform } from './transforms/transform.ts'

/** Field transforms by top-level field name. */
export type ProtectSpec<T> = { readonly [K in keyof T]?: FieldTransform }

/** A record after `protect`: protected fields hold text (or null), the others are unchanged. */
export type Protected<T, S> = { [K in keyof T]: K extends keyof S ? (S[K] extends FieldTransform ? (S[K]['kind'] extends 'decrypt' ? unknown : string | null) : T[K]) : T[K] }

/** What a `protect` step does to each field, for lineage and the dashboard (never a key). */
export interface ProtectDescription {
  readonly fields: Readonly<Record<string, Record<string, unknown>>>
}

/**
 * The function `protect` returns: use it with `map`; `describe` says what it does to which field.
 * @example
 * const protectUser = privacy.protect({ email: privacy.hash({ keys }) })
 * events.map(protectUser); protectUser.describe() // what it does to which field
 */
export interface ProtectFn<T, S> {
  (record: T): Protected<T, S>
  readonly describe: () => ProtectDescription
}

/**
 * One step's worth of privacy: a function for `map` that copies each record with the named fields masked,
 * redacted, hashed, tokenized or encrypted. Other fields are untouched; a field the record lacks stays absent.
 * @example events.map(protect({ email: privacy.hash({ keys }), card: privacy.mask({ keepLast: 4 }), phone: privacy.redact() }))
 */
export function protect<T extends object, const S extends ProtectSpec<T>>(spec: S): ProtectFn<T, S> {
  if (spec === null || typeof spec !== 'object') throw userError('SLUICE_BAD_ARGUMENT', 'protect needs an object of field transforms')
  const fields = Object.keys(spec)
  const transforms: FieldTransform[] = []
  for (const f of fields) {
    const t = (spec as Record<string, FieldTransform | undefined>)[f]
    if (t === undefined || typeof t.apply !== 'function') throw userError('SLUICE_BAD_ARGUMENT', `protect: field '${f}' needs a transform (mask, redact, hash, tokenize, encrypt or decrypt)`)
    transforms.push(t)
  }
  const n = fields.length
  const fn = (record: T): Protected<T, S> => {
    if (record === null || typeof record !== 'object') throw userError('SLUICE_BAD_ARGUMENT', `protect expects records that are objects, got ${record === null ? 'null' : typeof record}`)
    const out: Record<string, unknown> = { ...(record as Record<string, unknown>) }
    for (let i = 0; i < n; i++) {
      const f = fields[i]
      if (f in out) out[f] = transforms[i].apply(out[f])
    }
    return out as Protected<T, S>
  }
  const describe = (): ProtectDescription => ({ fields: Object.fromEntries(fields.map((f, i) => [f, transforms[i].describe()])) })
  return Object.assign(fn, { describe })
}
