import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IPublishPacket } from 'mqtt'
import { openLog } from '../../log/index.ts'
import { Intake, TOPIC } from './source.ts'

const packet = (messageId: number, payload: string, dup = false): IPublishPacket => ({ cmd: 'publish', qos: 1, dup, retain: false, topic: 't/a', payload: Buffer.from(payload), messageId })

test('after a restart, a message stored whose PUBACK was lost is not stored again when the broker resends it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-mqtt-intake-'))
  try {
    let log = await openLog(dir, { fsync: 'never', logger: { warn: () => undefined } })
    await log.createTopic(TOPIC, { partitions: 1 })
    const first = new Intake(log, 100, await Intake.recent(log))
    await first.take(packet(1, '{"n":1}'))
    await first.take(packet(2, '{"n":2}'))
    await log.close()
    // The process died after storing 2 and before its PUBACK: the broker sends 2 again with DUP, then 3.
    log = await openLog(dir, { fsync: 'never', logger: { warn: () => undefined } })
    const second = new Intake(log, 100, await Intake.recent(log))
    await second.take(packet(2, '{"n":2}', true))
    await second.take(packet(3, '{"n":3}'))
    // A DUP message never stored (lost before the fsync) is stored.
    await second.take(packet(4, '{"n":4}', true))
    const stored = await log.readBatch(TOPIC, 0, 0)
    assert.deepEqual(stored.values.map((v) => v.toString()), ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'])
    assert.equal(second.duplicates, 1)
    await log.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
