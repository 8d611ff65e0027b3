import type avro from 'avsc'
import { lazyRequire } from '../../core/lazy-require.ts'
import { at, type Difference } from './difference.ts'

const avsc = lazyRequire<typeof avro>(import.meta.url, 'avsc')

type AvroType = avro.Type & Record<string, any>
interface AvroField {
  name: string
  aliases: string[]
  type: AvroType
  defaultValue(): unknown
}

/** Parses an Avro schema (JSON text or object) with avsc; throws on an invalid schema. */
export function parseAvro(schema: string | object): avro.Type {
  return avsc().Type.forSchema(typeof schema === 'string' ? JSON.parse(schema) : (schema as avro.Schema))
}

const promotions: Record<string, readonly string[]> = {
  int: ['int', 'long', 'float', 'double'],
  long: ['long', 'float', 'double'],
  float: ['float', 'double'],
  double: ['double'],
  string: ['string', 'bytes'],
  bytes: ['bytes', 'string'],
  boolean: ['boolean'],
  null: ['null'],
}

/**
 * Why `reader` cannot read data written with `writer`, following Avro's schema resolution: numeric promotion,
 * string and bytes, defaults for fields the writer lacks, unions, enum symbols and defaults, aliases of named
 * types and fields, nested records. An empty list means every value of `writer` decodes with `reader`.
 * @example avroReadDifferences(parseAvro(v2), parseAvro(v1)) // [] when v2 only added fields with defaults
 */
export function avroReadDifferences(reader: avro.Type, writer: avro.Type): Difference[] {
  const out: Difference[] = []
  check(reader as AvroType, writer as AvroType, '', out, new Set())
  return out
}

function kindOf(t: AvroType): string {
  const n = t.typeName as string
  return n.startsWith('union') ? 'union' : n.startsWith('logical:') ? t.underlyingType.typeName : n
}

function check(r: AvroType, w: AvroType, path: string, out: Difference[], seen: Set<string>): void {
  const rk = kindOf(r)
  const wk = kindOf(w)
  if (wk === 'union') {
    // Every branch the writer may have written must be readable.
    for (const b of w.types as AvroType[]) check(r, b, path, out, seen)
    return
  }
  if (rk === 'union') {
    const branch = pickBranch(r.types as AvroType[], w)
    if (branch === undefined) out.push({ path, kind: 'MISSING_UNION_BRANCH', message: `the reader's union has no branch for the writer's ${describe(w)}` })
    else check(branch, w, path, out, seen)
    return
  }
  if (rk !== wk && !(promotions[wk]?.includes(rk) ?? false)) {
    out.push({ path, kind: 'TYPE_MISMATCH', message: `the writer's ${describe(w)} cannot be read as ${describe(r)}` })
    return
  }
  if (rk === 'record' || rk === 'enum' || rk === 'fixed') {
    if (!namesMatch(r, w)) {
      out.push({ path, kind: 'NAME_MISMATCH', message: `the writer's ${rk} '${w.name}' does not match the reader's '${r.name}' (nor its aliases)` })
      return
    }
  }
  if (rk === 'record') return checkRecord(r, w, path, out, seen)
  if (rk === 'enum') {
    const missing = (w.symbols as string[]).filter((s) => !(r.symbols as string[]).includes(s))
    if (missing.length > 0 && r.default === undefined) out.push({ path, kind: 'MISSING_ENUM_SYMBOLS', message: `the reader's enum '${r.name}' lacks symbols ${missing.join(', ')} and has no default` })
    return
  }
  if (rk === 'fixed') {
    if (r.size !== w.size) out.push({ path, kind: 'FIXED_SIZE_MISMATCH', message: `fixed '${r.name}' has size ${r.size} for the reader and ${w.size} for the writer` })
    return
  }
  if (rk === 'array') return check(r.itemsType, w.itemsType, at(path, '[]'), out, seen)
  if (rk === 'map') return check(r.valuesType, w.valuesType, at(path, '{}'), out, seen)
}

function checkRecord(r: AvroType, w: AvroType, path: string, out: Difference[], seen: Set<string>): void {
  const pair = `${r.name}<-${w.name}`
  if (seen.has(pair)) return // a recursive type: this pair is being checked further up
  seen.add(pair)
  const wFields = w.fields as AvroField[]
  for (const rf of r.fields as AvroField[]) {
    const names = [rf.name, ...(rf.aliases ?? [])]
    const wf = wFields.find((f) => names.includes(f.name))
    if (wf === undefined) {
      if (rf.defaultValue() === undefined) out.push({ path: at(path, rf.name), kind: 'READER_FIELD_MISSING_DEFAULT_VALUE', message: `field '${rf.name}' is missing from the writer and has no default` })
      continue
    }
    check(rf.type, wf.type, at(path, rf.name), out, seen)
  }
  seen.delete(pair)
}

function namesMatch(r: AvroType, w: AvroType): boolean {
  if (r.name === w.name) return true
  return w.name !== undefined && ((r.aliases as string[] | undefined)?.includes(w.name) ?? false)
}

/** The branch of a reader's union that reads a (non-union) writer type: same name or kind first, then a promotion. */
function pickBranch(branches: AvroType[], w: AvroType): AvroType | undefined {
  const wk = kindOf(w)
  const named = wk === 'record' || wk === 'enum' || wk === 'fixed'
  const same = branches.find((b) => kindOf(b) === wk && (!named || namesMatch(b, w)))
  if (same !== undefined) return same
  if (named) return undefined
  return branches.find((b) => promotions[wk]?.includes(kindOf(b)) ?? false)
}

function describe(t: AvroType): string {
  const k = kindOf(t)
  return k === 'record' || k === 'enum' || k === 'fixed' ? `${k} '${t.name}'` : k
}
