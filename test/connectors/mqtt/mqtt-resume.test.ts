// source.mqtt in the source conformance (resume) suite (src/connectors/resume.test.ts), unbounded form, against
// the Mosquitto service: what a first reader read before a cut and a fresh reader (the same client id, so the
// same broker session and embedded log) read after seeking to it equal one straight read.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqttLib from 'mqtt'
import { source } from '../../../src/index.ts'
import { checkResumeUnbounded } from '../../../src/connectors/resume-support.ts'
import { serviceOrSkip } from '../../support/services.ts'

const broker = serviceOrSkip('mosquitto')

test('source.mqtt: resumes at the log offset after any batch', { skip: broker.skip }, async () => {
  const url = String(broker.info!.url)
  const run = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const topic = `sluice-test/${run}/resume`
  const dir = await mkdtemp(join(tmpdir(), 'sluice-mqtt-resume-'))
  const make = () => source.mqtt<{ id: number }>({ url, topics: [topic], qos: 1, clientId: `resume-${run}`, logDir: dir })
  const feed = async () => {
    const pub = await mqttLib.connectAsync(url, { clientId: `pub-${run}`, protocolVersion: 4 })
    try {
      for (let id = 0; id < 60; id++) await pub.publishAsync(topic, JSON.stringify({ id }), { qos: 1 })
    } finally {
      await pub.endAsync()
    }
  }
  try {
    const { resumed } = await checkResumeUnbounded(make, { total: 60, max: 7, resumeMax: 4, cuts: [0, 1, 3, 5, -2, -1], feed, maxWaits: 300 })
    assert.ok(resumed.length >= 4, `${resumed.length} cuts`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
