import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type avro from 'avsc'
import { SluiceError, userError } from '../../core/errors.ts'
import { parseAvro } from '../compat/avro.ts'
import type { Contract } from '../contract/define.ts'
import type { RegistryState } from '../registry/store.ts'

/** The first byte of a record in the Confluent wire format; then the schema id (4 bytes, big-endian), then Avro binary. */
export const MAGIC_BYTE = 0

/** Frames an Avro payload with the magic byte and schema id. */
export function frame(id: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(5 + payload.length)
  b[0] = MAGIC_BYTE
  b.writeInt32BE(id, 1)
  b.set(payload, 5)
  return b
}

/** The schema id and payload of a framed record; throws SLUICE_BAD_AVRO if it is not framed. */
export function unframe(b: Uint8Array): { id: number; payload: Buffer } {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  if (buf.length < 5 || buf[0] !== MAGIC_BYTE) throw userError('SLUICE_BAD_AVRO', `not a record in the Confluent wire format (${buf.length < 5 ? 'shorter than 5 bytes' : `first byte ${buf[0]}, expected 0`})`)
  return { id: buf.readInt32BE(1), payload: buf.subarray(5) }
}

/** Where a decoder finds the writer schema of an id it has not seen: a function, or an embedded registry's folder. */
export type WriterSchemas = ((id: number) => string | undefined) | { registryDir: string }

/**
 * Encodes records of an Avro contract in the Confluent wire format under schema `id`, and decodes records
 * written under any id: with the contract's own schema, or with the writer's schema (looked up in
 * `writerSchemas`) resolved to the contract's by Avro's rules, so a consumer reads older and newer versions.
 * Use it as the log's codec: `sink.log(dir, topic, { encode })`, `source.log(dir, topic, { decode })`; a record
 * that does not decode goes to the error path as malformed.
 * @example const { encode, decode } = avroWire(bidContract, { id: 3, writerSchemas: { registryDir: 'data/registry' } })
 */
export function avroWire<T>(c: Contract<T>, options: { id: number; writerSchemas?: WriterSchemas }): { encode(value: T): Buffer; decode(value: Uint8Array): T } {
  if (c.format !== 'avro') throw userError('SLUICE_BAD_CONTRACT', `contract '${c.name}' has a ${c.format} schema; the Avro wire format needs an Avro schema`)
  const reader = parseAvro(c.schemaText.schema)
  const lookup = writerLookup(options.writerSchemas)
  const resolvers = new Map<number, avro.Type | { writer: avro.Type; resolver: avro.Resolver }>([[options.id, reader]])
  return {
    encode: (value) => frame(options.id, reader.toBuffer(value)),
    decode(value) {
      const { id, payload } = unframe(value)
      let r = resolvers.get(id)
      if (r === undefined) {
        const text = lookup(id)
        if (text === undefined) throw userError('SLUICE_BAD_AVRO', `schema id ${id} is unknown to contract '${c.name}'`, { hint: 'give writerSchemas (the registry) so older and newer versions can be read' })
        const writer = parseAvro(text)
        try {
          r = { writer, resolver: reader.createResolver(writer) }
        } catch (e) {
          throw new SluiceError('SLUICE_BAD_AVRO', `schema id ${id} cannot be read with contract '${c.name}' (version ${c.version}): ${e instanceof Error ? e.message : String(e)}`, { domain: 'user', cause: e })
        }
        resolvers.set(id, r)
      }
      return plain('resolver' in r ? reader.fromBuffer(payload, r.resolver) : r.fromBuffer(payload)) as T
    },
  }
}

function writerLookup(w: WriterSchemas | undefined): (id: number) => string | undefined {
  if (w === undefined) return () => undefined
  if (typeof w === 'function') return w
  // Read the registry's file again on each unknown id: it may have registered new versions since.
  return (id) => {
    let state: RegistryState
    try {
      state = JSON.parse(readFileSync(join(w.registryDir, 'registry.json'), 'utf8')) as RegistryState
    } catch {
      return undefined
    }
    const s = state.schemas.find((x) => x.id === id)
    return s?.schemaType === 'AVRO' ? s.schema : undefined
  }
}

/** avsc decodes records as instances of generated classes; pipelines get plain objects. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v
  if (Array.isArray(v)) return v.map(plain)
  const o: Record<string, unknown> = {}
  for (const k of Object.keys(v)) o[k] = plain((v as Record<string, unknown>)[k])
  return o
}
