import { deserialize, serialize } from 'node:v8'
import { userError } from './errors.ts'

/** Turns a state's values to bytes and back: for the durable store, and for snapshots. */
export interface StateCodec {
  /** Stable name, written in snapshots. */
  readonly name: string
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
}

/** JSON: readable and portable; Maps, Dates and bigints do not survive it. */
export const jsonCodec: StateCodec = {
  name: 'json',
  encode: (v) => Buffer.from(JSON.stringify(v) ?? 'null'),
  decode: (b) => JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString()),
}

/** The structured-clone format of node:v8: keeps Map, Set, Date, bigint, typed arrays. */
export const v8Codec: StateCodec = {
  name: 'v8',
  encode: (v) => serialize(v),
  decode: (b) => deserialize(b),
}

export function resolveCodec(codec: 'json' | 'v8' | StateCodec | undefined, where: string): StateCodec {
  if (codec === undefined || codec === 'json') return jsonCodec
  if (codec === 'v8') return v8Codec
  if (typeof codec === 'object' && codec !== null && typeof codec.encode === 'function' && typeof codec.decode === 'function' && typeof codec.name === 'string') return codec
  throw userError('SLUICE_STATE_CODEC', `${where}: unknown codec`, { hint: "use 'json', 'v8' or an object with name, encode and decode" })
}

/** A deep copy through the codec: what a value becomes after a trip through a snapshot or the disk. */
export function copyThrough(codec: StateCodec, v: unknown): unknown {
  const t = typeof v
  if ((t === 'string' || t === 'number' || t === 'boolean') && (codec === jsonCodec || codec === v8Codec)) return v
  if (codec === v8Codec) return structuredClone(v)
  if (codec === jsonCodec) return v === undefined ? null : JSON.parse(JSON.stringify(v))
  return codec.decode(codec.encode(v))
}
