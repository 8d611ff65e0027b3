import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileTransport } from './transport.ts'
import { closedSegments, lineageFiles, readLineageText } from './segments.ts'
import type { RunEvent } from './openlineage.ts'

const T0 = Date.parse('2026-01-01T00:00:00Z')
const event = (n: number, t: number) => ({ eventTime: new Date(t).toISOString(), eventType: 'RUNNING', n }) as unknown as RunEvent
const numbers = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { n: number }).n)

test('a running file transport closes segments and drops those older than its max age, keeping every newer event in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-seg-'))
  const file = join(dir, 'events.ndjson')
  let t = T0
  const drops: string[] = []
  const transport = fileTransport(file, { maxAge: 10_000, segment: 1000, now: () => t, onDrop: (d) => drops.push(d.path) })
  const N = 60
  for (let n = 0; n < N; n++) {
    t = T0 + n * 500
    await transport.send(event(n, t))
  }
  const kept = numbers(readLineageText(file))
  const first = kept[0]!
  // Whole old segments went, from the oldest; what is left is every event from some point on, in order.
  assert.ok(first > 0, 'old segments were dropped')
  assert.deepEqual(kept, Array.from({ length: N - first }, (_, i) => first + i))
  // Every event younger than the max age is still there.
  assert.ok(T0 + first * 500 <= t - 10_000, 'nothing younger than the max age went')
  assert.ok(drops.length > 0 && drops.every((p) => p.startsWith(file + '.')))
  // Bounded: about maxAge / segment closed segments stay.
  assert.ok(closedSegments(file).length <= 12, `${closedSegments(file).length} segments`)
  assert.equal(lineageFiles(file).at(-1), file, 'the file being written comes last')
})

test('concurrent transports on one file in a process append whole lines, and a plain single file reads as it is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-lineage-seg-'))
  const file = join(dir, 'events.ndjson')
  const a = fileTransport(file)
  const b = fileTransport(file)
  await Promise.all(Array.from({ length: 40 }, (_, n) => (n % 2 === 0 ? a : b).send(event(n, T0 + n))))
  assert.deepEqual(numbers(readLineageText(file)).sort((x, y) => x - y), Array.from({ length: 40 }, (_, n) => n))
  const legacy = join(dir, 'old.ndjson')
  writeFileSync(legacy, JSON.stringify(event(1, T0)) + '\n' + JSON.stringify(event(2, T0)))
  assert.deepEqual(numbers(readLineageText(legacy)), [1, 2])
  assert.deepEqual(lineageFiles(legacy), [legacy])
  assert.equal(readFileSync(legacy, 'utf8').split('\n').length, 2)
})
