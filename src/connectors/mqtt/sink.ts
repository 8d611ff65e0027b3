import type { MqttClient } from 'mqtt'
import type { Batch } from '../../core/batch.ts'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { Sink, SinkWriter } from '../../core/sink.ts'
import { connected, mqttClient, redactMqtt, type MqttConnection } from './client.ts'

/**
 * Options of `sink.mqtt`.
 * @example sink.mqtt({ url: 'mqtt://127.0.0.1:1883', topic: (r) => `alerts/${r.site}` })
 */
export interface MqttSinkOptions<T> extends MqttConnection {
  /** The topic of every message, or of each record. */
  topic: string | ((record: T) => string)
  /** The payload of a record: a string or bytes as they are, anything else as JSON. Default: the record as JSON. */
  payload?: (record: T) => unknown
  /** 1 (default): each message is acknowledged by the broker before the batch counts as written; 0: fire and forget. */
  qos?: 0 | 1
  /** Sets the retain flag, so a new subscriber gets the last message of each topic. Default false. */
  retain?: boolean
}

/**
 * Publishes each record as one MQTT message through the `mqtt` client. With QoS 1 a batch is written once the
 * broker has acknowledged all of its messages (the next batch waits: backpressure), so a checkpoint barrier
 * passes only after everything before it is at the broker: at-least-once (a restore publishes again what came
 * after the checkpoint; give messages an id, or use `retain` on per-key topics, where a repeat is harmless).
 * QoS 0 gives no guarantee.
 * @example .to(sink.mqtt({ url: 'mqtt://127.0.0.1:1883', topic: (r) => `devices/${r.id}/state`, retain: true }))
 */
export function mqtt<T>(options: MqttSinkOptions<T>): Sink<T> {
  const o = options ?? ({} as MqttSinkOptions<T>)
  if (typeof o.url !== 'string' || o.url === '') throw userError('SLUICE_BAD_ARGUMENT', 'sink.mqtt needs a url (mqtt://host:port)')
  if (typeof o.topic !== 'function' && (typeof o.topic !== 'string' || o.topic === '' || /[+#]/.test(o.topic))) {
    throw userError('SLUICE_BAD_OPTION', 'sink.mqtt: topic must be a topic name (no wildcards) or a function of the record')
  }
  const qos = o.qos ?? 1
  if (qos !== 0 && qos !== 1) throw userError('SLUICE_BAD_OPTION', 'sink.mqtt: qos must be 0 or 1')
  return {
    kind: 'mqtt',
    guarantee: qos === 1 ? 'at-least-once' : 'none',
    describe: () => ({ kind: 'mqtt', url: redactMqtt(o.url), topic: typeof o.topic === 'string' ? o.topic : 'by record', qos, retain: o.retain === true }),
    async open(ctx) {
      const clientId = o.clientId ?? `sluice-${ctx.pipeline}-${ctx.stepId}-${ctx.subtask}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '_')
      const client = mqttClient(o, clientId, true)
      client.on('error', () => undefined) // a publish fails with it; write reports it
      await connected(client).catch((e: unknown) => {
        throw new SluiceError('SLUICE_SINK_OPEN_FAILED', `sink.mqtt: could not connect to ${redactMqtt(o.url)}: ${errorMessage(e)}`, { domain: 'external', retryable: true, step: ctx.stepId, cause: e, hint: 'is the broker running and the url right?' })
      })
      return new MqttWriter(client, o, qos, ctx.stepId)
    },
  }
}

const encode = (v: unknown): string | Buffer => (typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : JSON.stringify(v))

class MqttWriter<T> implements SinkWriter<T> {
  private readonly client: MqttClient
  private readonly o: MqttSinkOptions<T>
  private readonly qos: 0 | 1
  private readonly step: string
  private bytes = 0

  constructor(client: MqttClient, o: MqttSinkOptions<T>, qos: 0 | 1, step: string) {
    this.client = client
    this.o = o
    this.qos = qos
    this.step = step
  }

  write(batch: Batch<T>): Promise<void> | void {
    const { values } = batch
    if (values.length === 0) return
    const { topic, payload } = this.o
    const opts = { qos: this.qos, retain: this.o.retain === true }
    // One promise for the batch: the callbacks count down.
    return new Promise((resolve, reject) => {
      let pending = values.length
      let failed = false
      const done = (e?: Error) => {
        if (failed) return
        if (e !== undefined && e !== null) {
          failed = true
          reject(new SluiceError('SLUICE_SINK_FAILED', `sink.mqtt: a publish to ${redactMqtt(this.o.url)} failed: ${errorMessage(e)}`, { domain: 'external', retryable: true, step: this.step, cause: e }))
        } else if (--pending === 0) resolve()
      }
      for (let i = 0; i < values.length; i++) {
        let t: string
        let body: string | Buffer
        try {
          t = typeof topic === 'string' ? topic : topic(values[i])
          body = encode(payload === undefined ? values[i] : payload(values[i]))
        } catch (e) {
          const position = batch.pos?.[i]
          failed = true
          reject(new SluiceError('SLUICE_SINK_FAILED', `sink.mqtt: the topic or payload function failed: ${errorMessage(e)}`, { domain: 'user', step: this.step, cause: e, ...(position === undefined ? {} : { position }) }))
          return
        }
        this.bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
        this.client.publish(t, body, opts, done)
      }
    })
  }

  bytesWritten(): number {
    return this.bytes
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => this.client.end(true))
  }
}
