import type { LogRecordMeta } from './source.ts'

/**
 * A value format for the log with set-up work the per-record functions cannot do (they are synchronous):
 * `open` once with the topic when the source or sink opens (a sink registers its schema), `prepare` with the
 * values of each read before they are decoded (fetch the writer schemas of ids not seen yet). The same
 * codec serves `source.log` and `sink.log`; `avroRegistry` from the contracts is one.
 * @example source.log('data/log', 'bids', { codec: avroRegistry(bidContract, { registry: 'data/registry' }) })
 */
export interface LogCodec<T> {
  open?(topics: readonly string[], role?: 'source' | 'sink'): Promise<void>
  prepare?(values: readonly Buffer[]): Promise<void>
  decode?(value: Buffer, meta: LogRecordMeta): T
  encode?(value: T): Buffer | string | Uint8Array
}
