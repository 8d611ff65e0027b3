import type avro from 'avsc'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { ajvPool } from '../compat/json-schema-dialect.ts'
import { compileRules, ruleId, type FieldRule } from './rules.ts'

/**
 * Why a record breaks a contract: the field's path (`/a/b`, '' for the record), the rule and what it asks.
 * @example { path: '/price', rule: 'minimum', detail: 'must be >= 0' }
 */
export interface Violation {
  path: string
  rule: string
  detail: string
}

/** Checks records against a schema and field rules; `check` is the fast path (no allocation for a good record). */
export interface RecordValidator {
  check(value: unknown): Violation | undefined
}

// Without `$schema`, 2020-12 (zod's dialect). addUsedSchema false: two contracts may share an `$id` (v1 and v2).
const ajvFor = ajvPool({ strict: false, allErrors: false, validateFormats: false, addUsedSchema: false }, '2020-12')

/**
 * A validator compiled from a JSON Schema with ajv, plus field rules. The schema is read in the dialect its
 * `$schema` declares (2020-12, 2019-09, draft-07); without one, 2020-12.
 * @example jsonSchemaValidator({ type: 'object', required: ['id'] }, []).check({}) // { path: '/id', rule: 'required', ... }
 */
export function jsonSchemaValidator(schema: object, rules: readonly FieldRule[]): RecordValidator {
  const fn: ValidateFunction = ajvFor(schema).compile(schema)
  const ruleCheck = compileRules(rules)
  return {
    check(value) {
      if (!fn(value)) return fromAjv(fn.errors![0])
      const r = ruleCheck(value)
      return r < 0 ? undefined : fromRule(rules[r])
    },
  }
}

/** A validator of an Avro type (avsc's generated checks), plus field rules. */
export function avroValidator(type: avro.Type, rules: readonly FieldRule[]): RecordValidator {
  const ruleCheck = compileRules(rules)
  return {
    check(value) {
      if (!type.isValid(value)) {
        let found: Violation | undefined
        type.isValid(value, {
          errorHook(path: string[], _v: unknown, t: avro.Type) {
            found ??= { path: path.length === 0 ? '' : `/${path.join('/')}`, rule: 'type', detail: `must be ${t.typeName.replace(/^union:\w+$/, 'one of the union')}` }
          },
        })
        return found ?? { path: '', rule: 'type', detail: 'must match the Avro schema' }
      }
      const r = ruleCheck(value)
      return r < 0 ? undefined : fromRule(rules[r])
    },
  }
}

function fromAjv(e: ErrorObject): Violation {
  if (e.keyword === 'required') return { path: `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`, rule: 'required', detail: 'is required' }
  if (e.keyword === 'additionalProperties') return { path: `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`, rule: 'additionalProperties', detail: 'is not allowed' }
  return { path: e.instancePath, rule: e.keyword, detail: e.message ?? e.keyword }
}

function fromRule(r: FieldRule): Violation {
  const detail =
    r.rule === 'notNull' ? 'must not be null' : r.rule === 'inRange' ? `must be in [${r.min ?? '-inf'}, ${r.max ?? 'inf'}]` : r.rule === 'inSet' ? `must be one of ${r.values.length} allowed values` : `must match pattern ${r.pattern}`
  return { path: `/${r.field.split('.').join('/')}`, rule: ruleId(r).split(':')[1], detail }
}
