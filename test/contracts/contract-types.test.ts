// Type-level tests: `npm test` typechecks this file, and every `@ts-expect-error` line must be an error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { contract, pipeline, source, withContract, type Contract } from '../../src/index.ts'

const p = pipeline('contract-types')
const fromZod = p.from(withContract(source.jsonl('x.jsonl'), contract({ name: 'a', schema: z.object({ id: z.number(), tag: z.string().optional() }) })))
fromZod.map((r) => r.id + 1)
// @ts-expect-error zod: a field the schema does not have
fromZod.map((r) => r.nope)
// @ts-expect-error zod: an optional field may be undefined
fromZod.map((r): string => r.tag)

const json = contract({ name: 'b', schema: { type: 'object', properties: { id: { type: 'integer' }, kind: { enum: ['x', 'y'] }, tags: { type: 'array', items: { type: 'string' } } }, required: ['id', 'kind'] } })
const jsonType: typeof json extends Contract<{ id: number; kind: 'x' | 'y'; tags?: string[] }> ? true : false = true
const fromJson = p.from(withContract(source.jsonl('x.jsonl'), json))
fromJson.map((r) => r.tags?.map((t) => t.length))
// @ts-expect-error JSON Schema: kind is 'x' | 'y'
fromJson.filter((r) => r.kind === 'z')

const avro = contract({ name: 'c', schema: { type: 'record', name: 'C', fields: [{ name: 'id', type: 'long' }, { name: 'note', type: ['null', 'string'] }, { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } }] } })
const avroType: typeof avro extends Contract<{ id: number; note: string | null; e: 'A' | 'B' }> ? true : false = true
// @ts-expect-error Avro: note may be null
p.from(withContract(source.jsonl('x.jsonl'), avro)).map((r): string => r.note)

test('contract types compile as declared', () => {
  assert.equal(jsonType && avroType, true)
})
