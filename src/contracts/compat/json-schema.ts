import { resolveLocalRef } from '../../core/json-ref.ts'
import { at, type Difference } from './difference.ts'

type S = boolean | Record<string, any>

/** The two documents, for their local `$ref`s, and the pairs of refs being compared (a recursive schema stops there). */
interface Ctx {
  readerRoot: S
  writerRoot: S
  comparing: Set<string>
}

/**
 * Why a document valid under `writer` may be invalid under `reader` (JSON Schema, the usual structural rules):
 * types may only widen (integer to number), a required property must have been required, an added property of
 * a closed writer is fine but one of an open writer must accept anything, enums may only grow, bounds
 * (minimum, maximum, lengths, items) may only loosen, a pattern may not appear or change, items and properties
 * recurse. Conservative: a difference it cannot prove harmless is reported. Local `$ref`s (`#/$defs/...`) are
 * followed, recursive ones included; a ref that does not resolve within its document is a difference.
 * @example jsonSchemaReadDifferences({ type: 'number' }, { type: 'integer' }) // []
 */
export function jsonSchemaReadDifferences(reader: S, writer: S): Difference[] {
  const out: Difference[] = []
  check(reader, writer, '', out, { readerRoot: reader, writerRoot: writer, comparing: new Set() })
  return out
}

function check(r0: S, w0: S, path: string, out: Difference[], ctx: Ctx): void {
  const refs = `${refOf(r0)}|${refOf(w0)}`
  if (refs !== '|') {
    // The same pair of definitions met again inside itself: compared already, down this path.
    if (ctx.comparing.has(refs)) return
    const r = resolveLocalRef(r0, ctx.readerRoot) as S | undefined
    const w = resolveLocalRef(w0, ctx.writerRoot) as S | undefined
    if (r === undefined || w === undefined) return void out.push({ path, kind: 'UNRESOLVED_REF', message: `the ${r === undefined ? "reader's" : "writer's"} $ref '${refOf(r === undefined ? r0 : w0)}' does not resolve within its schema` })
    ctx.comparing.add(refs)
    compare(r, w, path, out, ctx)
    ctx.comparing.delete(refs)
    return
  }
  compare(r0, w0, path, out, ctx)
}

function refOf(s: S): string {
  return typeof s === 'object' && typeof s.$ref === 'string' ? s.$ref : ''
}

function compare(r: S, w: S, path: string, out: Difference[], ctx: Ctx): void {
  if (r === true || (typeof r === 'object' && Object.keys(r).length === 0)) return
  if (w === false) return
  if (r === false) return void out.push({ path, kind: 'FALSE_SCHEMA', message: 'the reader accepts nothing here' })
  if (w === true) return void out.push({ path, kind: 'OPEN_WRITER', message: 'the writer accepts anything here, the reader does not' })
  if (combinators(r, w, path, out, ctx)) return
  const rt = types(r)
  const wt = types(w)
  if (rt !== undefined) {
    if (wt === undefined) out.push({ path, kind: 'TYPE_NARROWED', message: `the reader takes only ${[...rt].join(', ')}; the writer has no type` })
    else for (const t of wt) if (!rt.has(t) && !(t === 'integer' && rt.has('number'))) out.push({ path, kind: 'TYPE_NARROWED', message: `the writer's ${t} is not a type of the reader (${[...rt].join(', ')})` })
  }
  if (r.enum !== undefined) {
    if (w.enum === undefined && w.const === undefined) out.push({ path, kind: 'ENUM_ADDED', message: 'the reader restricts values to an enum; the writer does not' })
    else for (const v of w.enum ?? [w.const]) if (!r.enum.some((x: unknown) => JSON.stringify(x) === JSON.stringify(v))) out.push({ path, kind: 'ENUM_NARROWED', message: `an enum value of the writer is not in the reader's enum` })
  }
  bound(r, w, path, out, 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties')
  if (r.pattern !== undefined && r.pattern !== w.pattern) out.push({ path, kind: 'PATTERN_CHANGED', message: 'the reader has a pattern the writer does not share' })
  if (r.format !== undefined && r.format !== w.format) out.push({ path, kind: 'FORMAT_CHANGED', message: `the reader requires format '${r.format}'` })
  checkItems(r, w, path, out, ctx)
  checkObject(r, w, path, out, ctx)
}

/**
 * `anyOf` / `oneOf`: every alternative of the writer (or the writer itself) must be read by some alternative of
 * the reader (or the reader itself), each alternative taken with the keywords beside it. `oneOf` is treated as
 * `anyOf` (a value matching two of the reader's alternatives is not detected). `allOf` and `not` are compared for
 * equality only. Returns true when it compared the schemas as alternatives (nothing is left to compare).
 */
function combinators(r: Record<string, any>, w: Record<string, any>, path: string, out: Difference[], ctx: Ctx): boolean {
  for (const k of ['allOf', 'not']) {
    if ((r[k] !== undefined || w[k] !== undefined) && JSON.stringify(r[k]) !== JSON.stringify(w[k])) {
      out.push({ path, kind: 'COMBINATOR_CHANGED', message: `'${k}' differs between the reader and the writer (compared for equality only)` })
    }
  }
  const ra = alternatives(r)
  const wa = alternatives(w)
  if (ra === undefined && wa === undefined) return false
  const readers = ra === undefined ? [r] : ra.map((b) => withBase(r, b))
  const writers = wa === undefined ? [w] : wa.map((b) => withBase(w, b))
  writers.forEach((wb, i) => {
    const read = readers.some((rb) => {
      const d: Difference[] = []
      check(rb, wb, path, d, ctx)
      return d.length === 0
    })
    if (!read) out.push({ path, kind: 'ALTERNATIVE_NOT_READ', message: wa === undefined ? "the writer's schema is read by none of the reader's alternatives" : `the writer's alternative ${i + 1} is read by none of the reader's alternatives` })
  })
  return true
}

function alternatives(s: Record<string, any>): S[] | undefined {
  const a = s.anyOf ?? s.oneOf
  return Array.isArray(a) ? (a as S[]) : undefined
}

/** Alternative `b` of `s` with the keywords beside the alternatives (properties and required merged). */
function withBase(s: Record<string, any>, b: S): S {
  const { anyOf: _a, oneOf: _o, ...base } = s
  if (typeof b === 'boolean') return b ? base : false
  const merged: Record<string, any> = { ...base, ...b }
  if (base.properties !== undefined && b.properties !== undefined) merged.properties = { ...base.properties, ...b.properties }
  if (base.required !== undefined && b.required !== undefined) merged.required = [...new Set([...base.required, ...b.required])]
  return merged
}

/** Arrays: each position, then the items past the positions (tuples of draft-07 `items: [...]` or 2020's `prefixItems`). */
function checkItems(r: Record<string, any>, w: Record<string, any>, path: string, out: Difference[], ctx: Ctx): void {
  const rPos = positional(r)
  const wPos = positional(w)
  for (let i = 0; i < Math.max(rPos.length, wPos.length); i++) check(rPos[i] ?? rest(r), wPos[i] ?? rest(w), at(path, `[${i}]`), out, ctx)
  check(rest(r), rest(w), at(path, '[]'), out, ctx)
}

function positional(s: Record<string, any>): S[] {
  return Array.isArray(s.items) ? s.items : Array.isArray(s.prefixItems) ? s.prefixItems : []
}

/** The schema of the items past the positional ones. */
function rest(s: Record<string, any>): S {
  if (Array.isArray(s.items)) return s.additionalItems ?? true
  return s.items ?? true
}

function checkObject(r: Record<string, any>, w: Record<string, any>, path: string, out: Difference[], ctx: Ctx): void {
  const wRequired = new Set<string>(w.required ?? [])
  for (const name of r.required ?? []) if (!wRequired.has(name)) out.push({ path: at(path, name), kind: 'REQUIRED_PROPERTY_ADDED', message: `property '${name}' is required by the reader, not by the writer` })
  const rp: Record<string, S> = r.properties ?? {}
  const wp: Record<string, S> = w.properties ?? {}
  const rAdditional: S = r.additionalProperties ?? true
  const wAdditional: S = w.additionalProperties ?? true
  for (const [name, rs] of Object.entries(rp)) {
    if (name in wp) check(rs, wp[name], at(path, name), out, ctx)
    else check(rs, wAdditional, at(path, name), out, ctx) // what the writer lets through under that name
  }
  for (const [name, ws] of Object.entries(wp)) if (!(name in rp)) check(rAdditional, ws, at(path, name), out, ctx)
  if (r.properties !== undefined || r.additionalProperties !== undefined) {
    if (rAdditional !== true && wAdditional !== false) check(rAdditional, wAdditional, at(path, '*'), out, ctx)
  }
}

function types(s: Record<string, any>): Set<string> | undefined {
  if (s.type === undefined) return undefined
  return new Set(Array.isArray(s.type) ? s.type : [s.type])
}

function bound(r: Record<string, any>, w: Record<string, any>, path: string, out: Difference[], ...keys: string[]): void {
  for (const k of keys) {
    if (typeof r[k] !== 'number') continue
    const lower = k.startsWith('min') || k === 'exclusiveMinimum'
    const wv = w[k]
    if (typeof wv !== 'number' || (lower ? wv < r[k] : wv > r[k])) out.push({ path, kind: 'BOUND_TIGHTENED', message: `the reader's ${k} ${r[k]} is tighter than the writer's${typeof wv === 'number' ? ` ${wv}` : ' (none)'}` })
  }
}
