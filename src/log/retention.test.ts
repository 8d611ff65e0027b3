import { test } from 'node:test'
import assert from 'node:assert/strict'
import { segmentsToDelete } from './retention.ts'
import { openLog } from './log.ts'
import type { SluiceError } from '../core/errors.ts'
import { memoryLogger, tempDir, values } from './test-util.ts'

const seg = (visibleSize: number, maxTimestamp: number) => ({ visibleSize, maxTimestamp })

test('segmentsToDelete: by age deletes the old prefix only, by size down to the limit', () => {
  const sealed = [seg(100, 10), seg(100, 50), seg(100, 20), seg(100, 90)]
  const none = { retentionMs: null, retentionBytes: null }
  assert.equal(segmentsToDelete(sealed, 500, none, 1000), 0)
  // Cutoff 100 - 40 = 60: the first two are older; the third is too but the prefix stops at none of them.
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: 40, retentionBytes: null }, 100), 3)
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: 75, retentionBytes: null }, 100), 1)
  // 500 bytes in all (100 in the segment being written): keep at most 250.
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: null, retentionBytes: 250 }, 0), 3)
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: null, retentionBytes: 500 }, 0), 0)
  // The segment being written is never counted as deletable, even over the limit.
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: null, retentionBytes: 0 }, 0), 4)
  assert.equal(segmentsToDelete(sealed, 500, { retentionMs: 85, retentionBytes: 350 }, 100), 2)
})

test('retention deletes whole old segments; the start offset advances; reads below it are an error', async () => {
  const { dir, cleanup } = await tempDir()
  let now = 1_000_000
  const open = () => openLog(dir, { retentionCheckMs: 0, segmentBytes: 300, logger: memoryLogger(), now: () => now })
  try {
    let log = await open()
    await log.createTopic('t', { retentionMs: '2m' })
    for (let i = 0; i < 40; i += 4) {
      await log.append('t', 0, values(4, i))
      now += 10_000
    }
    const before = log.describe('t').partitions[0]
    assert.equal(await log.enforceRetention(), 0)
    now += 60_000
    const deleted = await log.enforceRetention()
    assert.ok(deleted > 0)
    const after = log.describe('t').partitions[0]
    assert.equal(after.segments, before.segments - deleted)
    assert.ok(after.startOffset > 0 && after.startOffset % 4 === 0)
    assert.equal(after.endOffset, 40)
    await assert.rejects(log.readBatch('t', 0, 0), (e: SluiceError) => e.code === 'SLUICE_LOG_OFFSET_OUT_OF_RANGE' && e.hint !== undefined && e.hint.includes(String(after.startOffset)))
    const b = await log.readBatch('t', 0, after.startOffset)
    assert.equal(b.values[0].toString(), `v${after.startOffset}`)
    // The new start offset is the first stored segment's base, so it survives reopening.
    await log.close()
    log = await open()
    assert.deepEqual(log.describe('t').partitions[0], after)
    // Far in the future everything but the segment being written goes.
    now += 10 * 60_000
    await log.enforceRetention()
    const last = log.describe('t').partitions[0]
    assert.equal(last.segments, 1)
    assert.equal((await log.append('t', 0, values(1, 40))).baseOffset, 40)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('retention by size keeps a partition at most retentionBytes', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const log = await openLog(dir, { retentionCheckMs: 0, segmentBytes: 300, logger: memoryLogger() })
    await log.createTopic('t', { retentionBytes: 1000 })
    for (let i = 0; i < 100; i += 4) await log.append('t', 0, values(4, i))
    assert.ok(log.describe('t').partitions[0].sizeBytes > 1000)
    await log.enforceRetention()
    const p = log.describe('t').partitions[0]
    assert.ok(p.sizeBytes <= 1000, `${p.sizeBytes} bytes`)
    assert.ok(p.sizeBytes > 1000 - 400)
    assert.equal(p.endOffset, 100)
    await log.close()
  } finally {
    await cleanup()
  }
})
