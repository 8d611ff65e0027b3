import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLog } from './log.ts'
import type { SluiceError } from '../core/errors.ts'
import { memoryLogger, tempDir } from './test-util.ts'

test('committed offsets are durable per group, topic and partition', async () => {
  const { dir, cleanup } = await tempDir()
  const open = () => openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() })
  try {
    let log = await open()
    await log.createTopic('t', { partitions: 2 })
    assert.equal(log.committedOffset('g', 't', 0), undefined)
    await log.commitOffset('g', 't', 0, 5)
    await log.commitOffset('g/odd name', 't', 1, 7)
    // Many commits at once: the last one wins and fewer files are written than commits made.
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.commitOffset('g', 't', 1, i)))
    assert.equal(log.committedOffset('g', 't', 1), 19)
    await log.close()
    log = await open()
    assert.equal(log.committedOffset('g', 't', 0), 5)
    assert.equal(log.committedOffset('g', 't', 1), 19)
    assert.equal(log.committedOffset('g/odd name', 't', 1), 7)
    assert.equal(log.committedOffset('g/odd name', 't', 0), undefined)
    assert.deepEqual(
      log.listCommittedOffsets().sort((a, b) => a.group.localeCompare(b.group) || a.partition - b.partition),
      [
        { group: 'g', topic: 't', partition: 0, offset: 5 },
        { group: 'g', topic: 't', partition: 1, offset: 19 },
        { group: 'g/odd name', topic: 't', partition: 1, offset: 7 },
      ],
    )
    assert.deepEqual((await readdir(join(dir, 'groups'))).sort(), ['g%2Fodd%20name.json', 'g.json'])
    assert.throws(() => log.commitOffset('g', 'nope', 0, 1), (e: SluiceError) => e.code === 'SLUICE_LOG_NO_TOPIC')
    assert.throws(() => log.commitOffset('g', 't', 0, -1), (e: SluiceError) => e.code === 'SLUICE_BAD_ARGUMENT')
    await log.close()
  } finally {
    await cleanup()
  }
})

test('an unreadable offsets file is a SLUICE_LOG_CORRUPT error naming the group', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const log = await openLog(dir, { retentionCheckMs: 0 })
    await log.close()
    await writeFile(join(dir, 'groups', 'g.json'), '{"version":1,"offs')
    await assert.rejects(openLog(dir), (e: SluiceError) => e.code === 'SLUICE_LOG_CORRUPT' && e.message.includes("'g'"))
  } finally {
    await cleanup()
  }
})
