// Temperature readings from devices over MQTT; readings above 30 °C published back as alerts, one topic per sensor.
//   MQTT_URL=mqtt://127.0.0.1:51883 npx sluice run examples/mqtt-alerts/pipeline.ts --checkpoint-dir .sluice/mqtt-alerts-chk
// Reads sensors/<id>/temp ({ "sensor": "s1", "celsius": 31.5, "ts": 1700000000000 }); writes alerts/<id>.
import { pipeline, sink, source } from 'sluice'

export interface Reading {
  sensor: string
  celsius: number
  ts: number
}

const url = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:51883'

const p = pipeline('mqtt-alerts')
p.from(source.mqtt<Reading>({ url, clientId: 'sluice-mqtt-alerts', topics: 'sensors/+/temp', logDir: process.env.MQTT_LOG_DIR ?? '.sluice/mqtt-alerts', eventTime: (r) => r.ts }))
  .filter((r) => r.celsius > 30)
  .map((r) => ({ sensor: r.sensor, celsius: r.celsius, ts: r.ts, alert: 'too hot' }))
  .to(sink.mqtt({ url, topic: (a) => `alerts/${a.sensor}` }))

export default p
