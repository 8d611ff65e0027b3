import { join } from 'node:path'
import type { IPublishPacket, MqttClient } from 'mqtt'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { Source, SourceOptions, SourceReader } from '../../core/source.ts'
import type { Log } from '../../log/index.ts'
import { acquireLog } from '../log/shared-log.ts'
import { log as logSource } from '../log/source.ts'
import { otherSubtaskReader, takesIntake } from '../log/single-intake.ts'
import { connected, mqttClient, redactMqtt, type MqttConnection } from './client.ts'
import { Redeliveries } from './redeliveries.ts'

/**
 * Options of `source.mqtt`.
 * @example source.mqtt({ url: 'mqtt://127.0.0.1:1883', topics: ['sensors/+/temp'], clientId: 'temps' })
 */
export interface MqttSourceOptions<T> extends SourceOptions<T>, MqttConnection {
  /** Topic filters to subscribe to ('+' and '#' wildcards). */
  topics: string | readonly string[]
  /** 1 (default): the broker keeps a message until it is stored; 0: at most once. */
  qos?: 0 | 1
  /** Turns a message into a record; default JSON.parse of its UTF-8 payload. Throwing makes it malformed (error path). */
  decode?: (payload: Buffer, topic: string) => T
  /** Messages stored and not yet read by the pipeline beyond which the source stops taking more from the broker. Default 100,000. */
  maxLag?: number
  /** The embedded log folder where messages are kept until the pipeline has read them. Default '.sluice/mqtt-<clientId>'. */
  logDir?: string
}

export const TOPIC = 'mqtt-ingest'

/**
 * Subscribes to an MQTT broker through the `mqtt` client with a persistent session (`clean: false`): each QoS 1
 * message is appended to a topic of the embedded log and fsynced before its PUBACK, so the broker keeps every
 * message the pipeline has not stored, also while the pipeline is down. The pipeline reads the log like
 * `source.log`, with the log offset as its checkpointed position: with checkpoints every message reaches the
 * output exactly once. A crash between the fsync and the PUBACK makes the broker send the message again with the
 * DUP flag; it is recognised by its packet id, topic and payload among the last stored messages and not stored
 * twice. The client id must stay the same across restarts (default `sluice-<pipeline>-<step>`). One session: at
 * parallelism above 1, subtask 0 subscribes and reads, and the steps after a keyed exchange run on every subtask. When the pipeline falls `maxLag` messages behind, the source stops acknowledging
 * and the broker holds the rest (backpressure). Without checkpoints the read position is committed when the
 * source closes: at-least-once after a crash.
 * @example p.from(source.mqtt({ url: 'mqtt://127.0.0.1:1883', topics: 'sensors/#', eventTime: (r) => r.ts }))
 */
export function mqtt<T = any>(options: MqttSourceOptions<T>): Source<T> {
  const o = options ?? ({} as MqttSourceOptions<T>)
  if (typeof o.url !== 'string' || o.url === '') throw userError('SLUICE_BAD_ARGUMENT', 'source.mqtt needs a url (mqtt://host:port)')
  const topics = typeof o.topics === 'string' ? [o.topics] : Array.isArray(o.topics) ? [...o.topics] : []
  if (topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === '')) throw userError('SLUICE_BAD_OPTION', 'source.mqtt: topics must be a topic filter or a non-empty list of them')
  const qos = o.qos ?? 1
  if (qos !== 0 && qos !== 1) throw userError('SLUICE_BAD_OPTION', 'source.mqtt: qos must be 0 or 1')
  if (o.decode !== undefined && typeof o.decode !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.mqtt: decode must be a function')
  const maxLag = o.maxLag ?? 100_000
  if (!Number.isSafeInteger(maxLag) || maxLag < 1) throw userError('SLUICE_BAD_OPTION', 'source.mqtt: maxLag must be a positive integer')
  const logOptions = { fsync: 'always' as const }
  const decode = o.decode
  const clientIdFor = (pipeline: string, step: string) => o.clientId ?? `sluice-${pipeline}-${step}`.replace(/[^A-Za-z0-9._-]/g, '_')
  return {
    kind: 'mqtt',
    bounded: false,
    options: o,
    describe: () => ({ kind: 'mqtt', url: redactMqtt(o.url), topics, qos, clientId: o.clientId ?? 'sluice-<pipeline>-<step>', maxLag, logDir: o.logDir ?? '.sluice/mqtt-<clientId>' }),
    async open(ctx): Promise<SourceReader<T>> {
      if (!takesIntake(ctx)) return otherSubtaskReader<T>() // one broker session: subtask 0 subscribes and reads
      const clientId = clientIdFor(ctx.pipeline, ctx.stepId)
      const logDir = o.logDir ?? join('.sluice', `mqtt-${clientId}`)
      const inner = logSource<T>(logDir, TOPIC, {
        ...o,
        from: 'earliest',
        group: 'sluice-mqtt',
        isolation: 'read_uncommitted',
        log: logOptions,
        decode: (value, meta) => {
          const topic = meta.key === null ? '' : meta.key.toString('utf8')
          return decode === undefined ? (JSON.parse(value.toString('utf8')) as T) : decode(value, topic)
        },
      })
      const ref = await acquireLog(logDir, logOptions)
      let client: MqttClient | undefined
      try {
        if (!ref.log.listTopics().includes(TOPIC)) await ref.log.createTopic(TOPIC, { partitions: 1 })
        const reader = await inner.open(ctx)
        const intake = new Intake(ref.log, maxLag, await Intake.recent(ref.log))
        client = mqttClient(o, clientId, false)
        client.handleMessage = (packet, done) => void intake.take(packet).then(() => done(), (e: unknown) => done(e as Error))
        client.on('error', () => undefined) // reconnects on its own; a failed store is reported through read
        await connected(client).catch((e: unknown) => {
          throw new SluiceError('SLUICE_SOURCE_FAILED', `source.mqtt: could not connect to ${redactMqtt(o.url)}: ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e, hint: 'is the broker running and the url right?' })
        })
        await client.subscribeAsync(Object.fromEntries(topics.map((t) => [t, { qos }])))
        const c = client
        return {
          partitions: reader.partitions,
          async read(partition, max) {
            if (intake.failure !== undefined) throw new SluiceError('SLUICE_SOURCE_FAILED', `source.mqtt: a message could not be stored: ${errorMessage(intake.failure)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: intake.failure })
            const r = await reader.read(partition, max)
            if (r !== null && typeof r === 'object') intake.read += r.values.length
            return r
          },
          positions: reader.positions?.bind(reader),
          seek: reader.seek?.bind(reader),
          onCheckpointComplete: reader.onCheckpointComplete?.bind(reader),
          bytesRead: () => intake.bytes,
          lag: () => intake.lag(),
          async close() {
            intake.closed = true
            await c.endAsync().catch(() => undefined)
            await reader.close()
            await ref.release()
          },
        }
      } catch (e) {
        client?.end(true)
        await ref.release()
        throw e
      }
    },
  }
}

/** Stores messages from the broker in the log, one at a time (the client hands over the next after the PUBACK). */
export class Intake {
  private readonly log: Log
  private readonly maxLag: number
  private readonly redeliveries: Redeliveries
  stored = 0
  read = 0
  bytes = 0
  duplicates = 0
  closed = false
  failure: unknown

  constructor(log: Log, maxLag: number, redeliveries: Redeliveries) {
    this.log = log
    this.maxLag = maxLag
    this.redeliveries = redeliveries
  }

  /** The redelivery window filled from the last messages of the log, so a restart recognises what it stored. */
  static async recent(log: Log): Promise<Redeliveries> {
    const r = new Redeliveries()
    const { startOffset, endOffset } = log.describe(TOPIC).partitions[0]
    let next = Math.max(startOffset, endOffset - 1024)
    while (next < endOffset) {
      const b = await log.readBatch(TOPIC, 0, next, { maxRecords: 1024 })
      if (b.values.length === 0) break
      for (let i = 0; i < b.values.length; i++) {
        const id = b.headers?.[i]?.['mqtt-id']
        if (id !== undefined) r.stored(Number(id.toString()), Redeliveries.digest(b.keys[i]?.toString('utf8') ?? '', b.values[i]))
      }
      next = b.nextOffset
    }
    return r
  }

  lag(): number {
    return Math.max(0, this.stored - this.read)
  }

  async take(packet: IPublishPacket): Promise<void> {
    // Not acknowledging holds the broker back: it keeps the rest for this session.
    while (this.lag() >= this.maxLag && !this.closed) await new Promise((r) => setTimeout(r, 20))
    if (this.closed) throw new Error('the source is closing')
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength)
    const id = packet.messageId
    const digest = id === undefined ? '' : Redeliveries.digest(packet.topic, payload)
    if (id !== undefined && packet.dup === true && this.redeliveries.isStored(id, digest)) {
      this.duplicates++
      return
    }
    try {
      await this.log.append(TOPIC, 0, [{ key: packet.topic, value: payload, ...(id === undefined ? {} : { headers: { 'mqtt-id': String(id) } }) }])
    } catch (e) {
      this.failure = e
      throw e
    }
    if (id !== undefined) this.redeliveries.stored(id, digest)
    this.stored++
    this.bytes += payload.byteLength
  }
}
