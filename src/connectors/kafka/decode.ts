import type { WireRecord } from './client.ts'

/**
 * How `source.kafka` turns record values into stream values: parsed JSON, UTF-8 text, or the bytes.
 * @example source.kafka({ brokers, topics: 'lines', format: 'string' })
 */
export type KafkaFormat = 'json' | 'string' | 'bytes'

/**
 * Where a record came from and what it carried besides its value. Keys and header values are UTF-8 text.
 * @example source.kafka({ brokers, topics: 't', decode: (bytes, meta) => ({ key: meta.key, text: bytes.toString() }) })
 */
export interface KafkaRecordMeta {
  topic: string
  partition: number
  offset: number
  /** The record's timestamp, epoch ms (create time or log-append time, as the topic is set). */
  timestamp: number
  key: string | null
  headers: Record<string, string>
}

/**
 * A value format with set-up work the per-record functions cannot do (they are synchronous): `open` once with
 * the topics when the source or sink opens (register a schema), `prepare` with the values of each fetch before
 * they are decoded (fetch the writer schemas of ids not seen yet). `avroRegistry` from the contracts is one.
 * @example source.kafka({ brokers, topics: 'bids', codec: avroRegistry(bidContract, { registry: 'http://127.0.0.1:8081' }) })
 */
export interface KafkaCodec<T> {
  open?(topics: readonly string[], role?: 'source' | 'sink'): Promise<void>
  prepare?(values: readonly Buffer[]): Promise<void>
  decode?(value: Buffer, meta: KafkaRecordMeta): T
  encode?(value: T): Buffer | string
}

/** The metadata of a fetched record. */
export function metaOf(r: WireRecord, topic: string, partition: number): KafkaRecordMeta {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = Array.isArray(v) ? v.map((b) => b.toString('utf8')).join(',') : v.toString('utf8')
  return { topic, partition, offset: Number(r.offset), timestamp: Number(r.timestamp), key: r.key === null ? null : r.key.toString('utf8'), headers }
}

const EMPTY = Buffer.alloc(0)

/**
 * The decoder of a source: a value decoder by format (or the user's), wrapped in a `KafkaRecord` with
 * `metadata`. A decoder that throws makes the record malformed (dead letter by the error policy).
 */
export function decoderFor<T>(custom: ((value: Buffer, meta: KafkaRecordMeta) => T) | undefined, format: KafkaFormat, metadata: boolean): (r: WireRecord, topic: string, partition: number) => T {
  const value: (r: WireRecord, topic: string, partition: number) => unknown =
    custom !== undefined
      ? (r, t, p) => custom(r.value ?? EMPTY, metaOf(r, t, p))
      : format === 'json'
        ? (r) => (r.value === null ? null : parseJson(r.value))
        : format === 'string'
          ? (r) => (r.value === null ? null : r.value.toString('utf8'))
          : (r) => (r.value === null ? null : new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength).slice())
  if (!metadata) return value as (r: WireRecord, topic: string, partition: number) => T
  return (r, t, p) => ({ ...metaOf(r, t, p), value: value(r, t, p) }) as T
}

/** JSON.parse, with a message that never quotes the record (its own does). */
function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'))
  } catch {
    throw new Error('not valid JSON')
  }
}
