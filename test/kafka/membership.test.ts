// The Kafka runner's group membership against the real broker: an assignor that fails (the exchange's end
// offsets not listable yet, as on a fresh broker) makes kafkajs rejoin, and the worker gets its run instead of
// ending with the failure.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/connectors/kafka/client.ts'
import type { RunAssignment } from '../../src/runtime/kafka-runner/assignment.ts'
import { Membership } from '../../src/runtime/kafka-runner/membership.ts'
import { bootstrap, broker, createTopic, topicName } from './support.ts'

test('an assignor that fails once: the membership rejoins and a run is assigned, nothing crashes', { skip: broker.skip, timeout: 180_000 }, async () => {
  const group = topicName('membership')
  const topic = `${group}.sluice-members`
  await createTopic(topic, 1)
  let failures = 1
  const runs: RunAssignment[] = []
  const crashes: unknown[] = []
  const lines: string[] = []
  const m = new Membership({
    client: createClient({ brokers: bootstrap() }),
    group,
    topic,
    maxThreads: 4,
    sessionTimeoutMs: 6000,
    endOffsets: async () => {
      if (failures-- > 0) throw new Error('no leader for the exchange topic yet')
      return [5, 0, 0, 0]
    },
    onRun: (a) => runs.push(a),
    onCrash: (e) => crashes.push(e),
    log: (line) => lines.push(line),
  })
  try {
    await m.join()
    const end = Date.now() + 150_000
    while (runs.length === 0 && crashes.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100))
  } finally {
    await m.leave()
  }
  assert.deepEqual(crashes, [], lines.join('\n'))
  assert.equal(runs.length, 1, lines.join('\n'))
  assert.deepEqual({ index: runs[0].index, count: runs[0].count, offsets: runs[0].offsets }, { index: 0, count: 1, offsets: [5, 0, 0, 0] })
  assert.ok(lines.some((l) => /could not be assigned/.test(l)) && lines.some((l) => /rejoining/.test(l)), lines.join('\n'))
})
