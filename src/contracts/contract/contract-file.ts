import { readFileSync } from 'node:fs'
import { lazyRequire } from '../../core/lazy-require.ts'
import { userError } from '../../core/errors.ts'
import { contract, type Contract } from './define.ts'

const yaml = lazyRequire<typeof import('yaml')>(import.meta.url, 'yaml')
import type { FieldRule } from './rules.ts'
import type { Expectation } from '../quality/expectations.ts'

const fileKinds = new Set(['notNull', 'inRange', 'inSet', 'pattern', 'unique', 'rowCount', 'freshness', 'distribution'])

const fieldRules = new Set(['notNull', 'inRange', 'inSet', 'pattern'])
const logicalTypes: Record<string, object> = {
  string: { type: 'string' },
  date: { type: 'string' },
  timestamp: { type: 'string' },
  number: { type: 'number' },
  integer: { type: 'integer' },
  boolean: { type: 'boolean' },
  object: { type: 'object' },
  array: { type: 'array' },
}
const schemaOptions = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'format', 'enum', 'minItems', 'maxItems', 'multipleOf']

/**
 * Reads a contract from a YAML file modelled on the Open Data Contract Standard (v3): `name`, `version` (its
 * major number is the schema version), `description.purpose`, `team.name` or `owner`, and one `schema` object
 * whose `properties` have `logicalType`, `required`, `logicalTypeOptions` (minimum, maximum, pattern, enum, ...),
 * `classification: personal` (or `pii: true`), nested `properties` and `items`, and `quality` entries. Field
 * quality entries `notNull`, `inRange`, `inSet`, `pattern` are checked at the edge; the others (unique,
 * rowCount, freshness, distribution), and any entry with a `severity`, are returned as `expectations` for
 * `stream.expect`.
 * @example const bids = loadContract<Bid>('contracts/bids.yaml')
 */
export function loadContract<T = Record<string, unknown>>(path: string): Contract<T> & { expectations: Expectation[] } {
  let doc: any
  try {
    doc = yaml().parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw userError('SLUICE_BAD_CONTRACT', `contract file '${path}' cannot be read: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e })
  }
  const bad = (what: string) => userError('SLUICE_BAD_CONTRACT', `contract file '${path}': ${what}`, { hint: 'see the contract file format in the contracts README' })
  if (doc === null || typeof doc !== 'object') throw bad('is not a YAML mapping')
  if (typeof doc.name !== 'string') throw bad("needs a 'name'")
  const objects = Array.isArray(doc.schema) ? doc.schema : []
  if (objects.length !== 1) throw bad("needs exactly one object under 'schema'")
  const rules: FieldRule[] = []
  const expectations: Expectation[] = []
  const personal: string[] = []
  const schema = objectSchema(objects[0], '', { rules, expectations, personal, bad })
  for (const q of objects[0].quality ?? []) expectations.push(toExpectation(q, undefined, bad))
  const version = doc.version === undefined ? 1 : Number(String(doc.version).split('.')[0])
  const c = contract({
    name: doc.name,
    schema: schema as object,
    ...(typeof doc.subject === 'string' ? { subject: doc.subject } : {}),
    version,
    ...(typeof doc.owner === 'string' ? { owner: doc.owner } : typeof doc.team?.name === 'string' ? { owner: doc.team.name } : {}),
    ...(typeof doc.description?.purpose === 'string' ? { description: doc.description.purpose } : typeof doc.description === 'string' ? { description: doc.description } : {}),
    personal,
    rules,
  })
  return Object.assign(c as unknown as Contract<T>, { expectations })
}

interface Collect {
  rules: FieldRule[]
  expectations: Expectation[]
  personal: string[]
  bad: (what: string) => Error
}

function objectSchema(o: any, prefix: string, acc: Collect): object {
  const properties: Record<string, object> = {}
  const required: string[] = []
  for (const p of o.properties ?? []) {
    if (typeof p?.name !== 'string') throw acc.bad(`a property under '${prefix || o.name}' has no name`)
    const path = prefix === '' ? p.name : `${prefix}.${p.name}`
    properties[p.name] = propertySchema(p, path, acc)
    if (p.required === true) required.push(p.name)
    if (p.classification === 'personal' || p.classification === 'pii' || p.pii === true || (Array.isArray(p.tags) && p.tags.includes('personal'))) acc.personal.push(path)
    for (const q of p.quality ?? []) {
      if (fieldRules.has(q?.rule) && q.severity === undefined) acc.rules.push({ ...q, field: path } as FieldRule)
      else acc.expectations.push(toExpectation(q, path, acc.bad))
    }
  }
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) }
}

function propertySchema(p: any, path: string, acc: Collect): object {
  const t = p.logicalType ?? (p.properties !== undefined ? 'object' : undefined)
  if (t !== undefined && !(t in logicalTypes)) throw acc.bad(`property '${path}' has an unknown logicalType '${String(t)}'`)
  const base: Record<string, unknown> = t === 'object' && p.properties !== undefined ? { ...objectSchema(p, path, acc) } : { ...(t !== undefined ? logicalTypes[t] : {}) }
  if (t === 'array' && p.items !== undefined) base.items = propertySchema({ name: 'items', ...p.items }, `${path}[]`, acc)
  const opts = p.logicalTypeOptions ?? {}
  for (const k of schemaOptions) if (opts[k] !== undefined) base[k] = opts[k]
  if (p.nullable === true && typeof base.type === 'string') base.type = [base.type, 'null']
  return base
}

function toExpectation(q: any, field: string | undefined, bad: (what: string) => Error): Expectation {
  if (q === null || typeof q !== 'object' || !fileKinds.has(q.rule)) throw bad(`unknown quality rule '${String(q?.rule)}' (${[...fileKinds].join(', ')})`)
  const { rule, ...rest } = q
  return { ...rest, kind: rule, ...(field !== undefined ? { field } : {}) } as Expectation
}
