import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { KafkaCodec } from '../../connectors/kafka/decode.ts'
import type { LogCodec } from '../../connectors/log/codec.ts'
import type { Contract } from '../contract/define.ts'
import { registryAccess, type RegistryAccess } from '../registry/access.ts'
import { avroWire } from './confluent-avro.ts'

/**
 * Where `avroRegistry` finds schemas: a registry URL (Confluent's REST API, or `sluice registry`) or an
 * embedded registry's folder; the subject the sink registers under (default `<topic>-value`); and whether it
 * may register the contract's schema (default true; false only looks it up and fails if it is not there).
 * @example avroRegistry(bidContract, { registry: 'http://127.0.0.1:8081', subject: 'bids-value', register: false })
 */
export interface AvroRegistryOptions {
  registry: string
  subject?: string
  register?: boolean
}

/**
 * Avro in the Confluent wire format on Kafka and the embedded log, with schema ids from a schema registry.
 * As the codec of `source.kafka` or `source.log` it decodes records written under any id: the writer schema
 * of an id not seen before is fetched from the registry (before the fetch's records are decoded) and resolved
 * to the contract's schema by Avro's rules, so a pipeline on v2 reads what producers on v1 wrote. As the codec
 * of `sink.kafka` or `sink.log` it registers the contract's schema under `<topic>-value` when the sink opens
 * (or looks it up) and frames every record with that id. `open` is told whether a source or a sink opens it;
 * a source registers nothing (a caller that does not say is taken for a sink when it names one topic).
 * A record that is not framed, or whose id the registry does not know or cannot be read with the contract,
 * goes to the error path as malformed (SLUICE_BAD_AVRO); a registry that cannot be reached fails the step.
 * @example
 * p.from(source.kafka({ brokers, topics: 'bids', codec: avroRegistry(bidContract, { registry: 'http://127.0.0.1:8081' }) }))
 *   .to(sink.log('data/log', 'bids-clean', { codec: avroRegistry(bidContract, { registry: 'http://127.0.0.1:8081' }) }))
 */
export function avroRegistry<T>(c: Contract<T>, o: AvroRegistryOptions): KafkaCodec<T> & LogCodec<T> {
  if (c.format !== 'avro') throw userError('SLUICE_BAD_CONTRACT', `contract '${c.name}' has a ${c.format} schema; Avro with schema ids needs an Avro schema`)
  if (typeof o?.registry !== 'string' || o.registry === '') throw userError('SLUICE_BAD_OPTION', "avroRegistry: 'registry' (a URL or a registry folder) is required")
  let access: Promise<RegistryAccess> | undefined
  const registry = (): Promise<RegistryAccess> => (access ??= registryAccess(o.registry))
  /** Writer schemas fetched so far (undefined: the registry does not know the id). */
  const writers = new Map<number, string | undefined>()
  const reader = avroWire(c, { id: -1, writerSchemas: (id) => writers.get(id) })
  let writer: ReturnType<typeof avroWire<T>> | undefined
  const unreachable = (what: string, e: unknown) =>
    new SluiceError('SLUICE_SCHEMA_REGISTRY_FAILED', `schema registry '${o.registry}': ${what}: ${errorMessage(e)}`, { domain: 'external', retryable: true, cause: e, hint: 'check the registry address and that it runs' })
  return {
    async open(topics: readonly string[], role?: 'source' | 'sink') {
      // A source needs no id of its own: ids come with the records. (A caller that does not say which it is
      // is taken for a sink when it names one topic.)
      if (role === 'source' || (role === undefined && topics.length !== 1)) return
      const subject = o.subject ?? `${topics[0]}-value`
      const schema = { schemaType: 'AVRO' as const, schema: c.schemaText.schema }
      let id: number | undefined
      try {
        const r = await registry()
        id = o.register === false ? (await r.lookup(subject, schema))?.id : (await r.register(subject, schema)).id
      } catch (e) {
        throw unreachable(`cannot register contract '${c.name}' under '${subject}'`, e)
      }
      if (id === undefined) throw userError('SLUICE_BAD_CONTRACT', `contract '${c.name}' (version ${c.version}) is not registered under '${subject}'`, { hint: "register it (sluice check --contracts --register), or leave 'register' at true" })
      writer = avroWire(c, { id })
    },
    async prepare(values) {
      const ids = new Set<number>()
      for (const v of values) {
        if (v.length >= 5 && v[0] === 0) {
          const id = v.readInt32BE(1)
          if (!writers.has(id)) ids.add(id)
        }
      }
      for (const id of ids) {
        let s
        try {
          s = await (await registry()).schemaById(id)
        } catch (e) {
          throw unreachable(`cannot fetch schema ${id}`, e)
        }
        writers.set(id, s?.schemaType === 'AVRO' ? s.schema : undefined)
      }
    },
    decode: (value: Buffer) => reader.decode(value),
    encode(value: T) {
      if (writer === undefined) throw new SluiceError('SLUICE_INTERNAL', `avroRegistry: contract '${c.name}' encodes only once a sink opened it`, { domain: 'internal' })
      return writer.encode(value)
    },
  }
}
