import { collection } from './memory/collection-source.ts'
import { collect } from './memory/collect-sink.ts'
import { generator } from './generator/generator-source.ts'
import { jsonl as jsonlSink } from './files/jsonl-sink.ts'
import { jsonl } from './files/jsonl-source.ts'
import { csv } from './files/csv-source.ts'
import { consoleSink } from './console/console-sink.ts'
import { blackhole } from './blackhole/blackhole-sink.ts'
import { nexmark } from './nexmark/source.ts'
import { log as logSource } from './log/source.ts'
import { log as logSink } from './log/sink.ts'
import { parquet } from './parquet/sink.ts'
import { parquet as parquetSource } from './parquet/source.ts'
import { avro as avroSource } from './avro/source.ts'
import { avro as avroSink } from './avro/sink.ts'
import { duckdb } from './duckdb/sink.ts'
import { kafka as kafkaSource } from './kafka/source.ts'
import { kafka as kafkaSink } from './kafka/sink.ts'
import { postgres } from './postgres/sink.ts'
import { postgresCdc } from './postgres/cdc/source.ts'
import { redis } from './redis/sink.ts'
import { s3 } from './s3/sink.ts'
import { http } from './http/source.ts'
import { mqtt as mqttSource } from './mqtt/source.ts'
import { mqtt as mqttSink } from './mqtt/sink.ts'
import { stateSource } from './state/state-source.ts'
import { savepointSink } from './state/savepoint-sink.ts'

/**
 * Built-in sources.
 * @example const clicks = p.from(source.jsonl<Click>('data/clicks.jsonl', { eventTime: (c) => c.ts }))
 */
export const source = { collection, generator, jsonl, csv, nexmark, log: logSource, kafka: kafkaSource, postgresCdc, http, mqtt: mqttSource, parquet: parquetSource, avro: avroSource, state: stateSource }

/**
 * Built-in sinks.
 * @example clicks.to(sink.jsonl('out/clicks.jsonl'))
 */
export const sink = { collect, console: consoleSink, jsonl: jsonlSink, blackhole, log: logSink, parquet, duckdb, kafka: kafkaSink, postgres, redis, s3, mqtt: mqttSink, avro: avroSink, savepoint: savepointSink }
