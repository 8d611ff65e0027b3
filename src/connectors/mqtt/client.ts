import type { IClientOptions, MqttClient } from 'mqtt'
import { lazyRequire } from '../../core/lazy-require.ts'

const mqttLib = lazyRequire<typeof import('mqtt')>(import.meta.url, 'mqtt')

/** How to reach the broker, shared by `source.mqtt` and `sink.mqtt`. */
export interface MqttConnection {
  /** The broker: 'mqtt://host:1883', 'mqtts://…', 'ws://…'. */
  url: string
  username?: string
  password?: string
  /** The client id. The source needs a stable one for its persistent session (default derived from the pipeline and step). */
  clientId?: string
}

/** A url without its password, for messages. */
export function redactMqtt(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return 'the MQTT url'
  }
}

/**
 * A client that is not connected yet (so handlers can be set before the broker sends anything) and reconnects
 * on its own. `clean: false` keeps the session, its subscriptions and unacknowledged QoS 1 messages on the broker.
 */
export function mqttClient(c: MqttConnection, clientId: string, clean: boolean): MqttClient {
  const options: IClientOptions = {
    clientId,
    clean,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    manualConnect: true,
    ...(c.username === undefined ? {} : { username: c.username }),
    ...(c.password === undefined ? {} : { password: c.password }),
  }
  return mqttLib().connect(c.url, options)
}

/** Connects; rejects with the first error, or when the broker does not answer within `timeoutMs`. */
export function connected(client: MqttClient, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => onError(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    const onConnect = () => {
      clearTimeout(timer)
      client.off('error', onError)
      resolve()
    }
    const onError = (e: Error) => {
      clearTimeout(timer)
      client.off('connect', onConnect)
      client.end(true)
      reject(e)
    }
    client.once('connect', onConnect)
    client.once('error', onError)
    client.connect()
  })
}
