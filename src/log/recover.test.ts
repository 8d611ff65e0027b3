import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, open, readdir, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLog } from './log.ts'
import type { Log } from './log.ts'
import type { SluiceError } from '../core/errors.ts'
import { memoryLogger, tempDir, values } from './test-util.ts'

/**
 * A partition with `n` records in one segment (or several with `segmentBytes`), closed. Returns the
 * folder and the path of the last segment file.
 */
async function prepared(n: number, segmentBytes = 1 << 20): Promise<{ dir: string; pdir: string; last: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir()
  const log = await openLog(dir, { retentionCheckMs: 0, segmentBytes, logger: memoryLogger() })
  await log.createTopic('t')
  for (let i = 0; i < n; i += 4) await log.append('t', 0, values(Math.min(4, n - i), i))
  await log.close()
  const pdir = join(dir, 'topics', 't', '0')
  const logs = (await readdir(pdir)).filter((f) => f.endsWith('.log')).sort()
  return { dir, pdir, last: join(pdir, logs[logs.length - 1]), cleanup }
}

async function reopenAndCheck(dir: string, survivors: number): Promise<{ log: Log; lines: string[] }> {
  const logger = memoryLogger()
  const log = await openLog(dir, { retentionCheckMs: 0, logger })
  const p = log.describe('t').partitions[0]
  assert.deepEqual([p.startOffset, p.endOffset], [0, survivors])
  const read: string[] = []
  let off = 0
  while (off < survivors) {
    const b = await log.readBatch('t', 0, off)
    read.push(...b.values.map(String))
    off = b.nextOffset
  }
  assert.deepEqual(read, Array.from({ length: survivors }, (_, i) => `v${i}`))
  // Appends continue right after the survivors, and are readable.
  assert.equal((await log.append('t', 0, [{ value: 'after' }])).baseOffset, survivors)
  assert.deepEqual((await log.readBatch('t', 0, survivors)).values.map(String), ['after'])
  return { log, lines: logger.lines }
}

test('a record cut mid-frame is truncated, with one log line naming topic, partition, segment and bytes', async () => {
  const { dir, last, cleanup } = await prepared(10)
  try {
    const size = (await stat(last)).size
    await truncate(last, size - 5)
    const { log, lines } = await reopenAndCheck(dir, 9)
    assert.equal(lines.length, 1)
    assert.match(lines[0], /^log: t\/0 segment 00000000000000000000\.log: cut \d+ bytes after offset 8 \(a partial record\)$/)
    const cut = Number(/cut (\d+) bytes/.exec(lines[0])![1])
    await log.close()
    // The file was cut to the last whole record (then 'after' was appended): a second open repairs nothing.
    const logger = memoryLogger()
    const again = await openLog(dir, { retentionCheckMs: 0, logger })
    assert.deepEqual(logger.lines, [])
    assert.equal(again.describe('t').partitions[0].endOffset, 10)
    await again.close()
    assert.ok(cut > 0 && cut < size)
  } finally {
    await cleanup()
  }
})

test('a flipped byte in the last record fails its checksum and only that record is cut', async () => {
  const { dir, last, cleanup } = await prepared(10)
  try {
    const size = (await stat(last)).size
    const fh = await open(last, 'r+')
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, size - 2)
    b[0] ^= 0x40
    await fh.write(b, 0, 1, size - 2)
    await fh.close()
    const { log, lines } = await reopenAndCheck(dir, 9)
    assert.equal(lines.length, 1)
    assert.match(lines[0], /cut \d+ bytes after offset 8 \(a checksum mismatch\)/)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('garbage appended after the last record is cut by its exact size', async () => {
  const { dir, last, cleanup } = await prepared(7)
  try {
    await appendFile(last, Buffer.from('this is not a frame, just noise appended by a crash'))
    const { log, lines } = await reopenAndCheck(dir, 7)
    assert.match(lines[0], /cut 51 bytes after offset 6/)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('zeroes after the last record (a preallocated or torn tail) are cut', async () => {
  const { dir, last, cleanup } = await prepared(5)
  try {
    await appendFile(last, Buffer.alloc(4096))
    const { log, lines } = await reopenAndCheck(dir, 5)
    assert.match(lines[0], /cut 4096 bytes/)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('an empty last segment (file created, header never written) is repaired, earlier segments survive', async () => {
  const { dir, pdir, cleanup } = await prepared(40, 300)
  try {
    const logs = (await readdir(pdir)).filter((f) => f.endsWith('.log')).sort()
    assert.ok(logs.length >= 3)
    // A crash right after a roll created the next segment: an empty file named after the next offset.
    await writeFile(join(pdir, `${String(40).padStart(20, '0')}.log`), '')
    const { log, lines } = await reopenAndCheck(dir, 40)
    assert.deepEqual(lines, [])
    assert.equal(log.describe('t').partitions[0].segments, logs.length + 1)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('a last segment cut inside its header keeps the earlier segments and restarts at its base offset', async () => {
  const { dir, last, cleanup } = await prepared(40, 300)
  try {
    const base = Number(/(\d{20})\.log$/.exec(last)![1])
    await truncate(last, 7)
    const { log, lines } = await reopenAndCheck(dir, base)
    assert.match(lines[0], /cut 7 bytes \(a torn segment header\)/)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('the only segment truncated to zero bytes gives an empty partition that takes appends from 0', async () => {
  const { dir, last, cleanup } = await prepared(6)
  try {
    await truncate(last, 0)
    const { log } = await reopenAndCheck(dir, 0)
    await log.close()
  } finally {
    await cleanup()
  }
})

test('damage inside a sealed segment is a SLUICE_LOG_CORRUPT error, not a silent cut', async () => {
  const { dir, pdir, cleanup } = await prepared(40, 300)
  try {
    const first = join(pdir, (await readdir(pdir)).filter((f) => f.endsWith('.log')).sort()[0])
    await truncate(first, (await stat(first)).size - 3)
    await assert.rejects(openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() }), (e: SluiceError) => e.code === 'SLUICE_LOG_CORRUPT' && /00000000000000000000\.log/.test(e.message))
    // The failed open released the folder.
    await assert.rejects(openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() }), (e: SluiceError) => e.code === 'SLUICE_LOG_CORRUPT')
  } finally {
    await cleanup()
  }
})
