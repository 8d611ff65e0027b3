import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLog } from './log.ts'
import type { Log } from './log.ts'
import type { LogOptions } from './options.ts'
import { SluiceError } from '../core/errors.ts'
import { memoryLogger, tempDir, values } from './test-util.ts'

async function withLog(options: LogOptions, body: (log: Log, dir: string, reopen: (o?: LogOptions) => Promise<Log>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir()
  let log = await openLog(dir, { retentionCheckMs: 0, logger: memoryLogger(), ...options })
  const reopen = async (o: LogOptions = {}) => {
    await log.close()
    log = await openLog(dir, { retentionCheckMs: 0, logger: memoryLogger(), ...options, ...o })
    return log
  }
  try {
    await body(log, dir, reopen)
  } finally {
    await log.close()
    await cleanup()
  }
}

async function readAll(log: Log, topic: string, p: number, from = 0): Promise<{ offsets: number[]; values: string[] }> {
  const out = { offsets: [] as number[], values: [] as string[] }
  let off = from
  for (;;) {
    const b = await log.readBatch(topic, p, off, { maxRecords: 7 })
    if (b.offsets.length === 0) return out
    out.offsets.push(...b.offsets)
    out.values.push(...b.values.map((v) => v.toString()))
    off = b.nextOffset
  }
}

test('append and read back keys, values, timestamps and headers with dense offsets', async () => {
  await withLog({ now: () => 5000 }, async (log) => {
    await log.createTopic('t', { partitions: 2 })
    const r1 = await log.append('t', 0, [{ value: 'a', key: 'k1', timestamp: 10, headers: { trace: 'x1', bin: Buffer.from([0, 255]) } }, { value: Buffer.from('b') }])
    const r2 = await log.append('t', 0, [{ value: '', key: Buffer.alloc(0), timestamp: -5 }])
    const r3 = await log.append('t', 1, [{ value: 'other' }])
    assert.deepEqual([r1, r2, r3], [{ baseOffset: 0, nextOffset: 2 }, { baseOffset: 2, nextOffset: 3 }, { baseOffset: 0, nextOffset: 1 }])
    const b = await log.readBatch('t', 0, 0)
    assert.deepEqual(b.offsets, [0, 1, 2])
    assert.deepEqual(b.timestamps, [10, 5000, -5])
    assert.deepEqual(b.values.map(String), ['a', 'b', ''])
    assert.deepEqual(b.keys.map((k) => (k === null ? null : k.toString())), ['k1', null, ''])
    assert.deepEqual(b.headers?.map((h) => (h === null ? null : Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [...v]])))), [{ trace: [...Buffer.from('x1')], bin: [0, 255] }, null, null])
    assert.equal(b.nextOffset, 3)
    assert.deepEqual((await log.readBatch('t', 1, 0)).values.map(String), ['other'])
  })
})

test('segments roll at the configured size and reads cross them, also after reopening', async () => {
  await withLog({ segmentBytes: 1000, indexIntervalBytes: 100 }, async (log, dir, reopen) => {
    await log.createTopic('t')
    for (let i = 0; i < 30; i++) await log.append('t', 0, values(5, i * 5))
    const info = log.describe('t').partitions[0]
    assert.ok(info.segments >= 5, `${info.segments} segments`)
    assert.deepEqual([info.startOffset, info.endOffset, info.records], [0, 150, 150])
    const all = await readAll(log, 't', 0)
    assert.deepEqual(all.offsets, Array.from({ length: 150 }, (_, i) => i))
    assert.deepEqual(all.values, Array.from({ length: 150 }, (_, i) => `v${i}`))
    const files = await readdir(join(dir, 'topics', 't', '0'))
    assert.equal(files.filter((f) => f.endsWith('.log')).length, info.segments)

    log = await reopen()
    assert.deepEqual(log.describe('t').partitions[0], info)
    // Reading from every offset gives the same records as reading from 0.
    for (const from of [0, 1, 17, 49, 50, 99, 149]) {
      const b = await log.readBatch('t', 0, from, { maxRecords: 3 })
      assert.deepEqual(b.offsets, [from, from + 1, from + 2].filter((o) => o < 150))
      assert.deepEqual(b.values.map(String), b.offsets.map((o) => `v${o}`))
    }
    assert.deepEqual((await log.append('t', 0, values(1, 150))).baseOffset, 150)
  })
})

test('readBatch honours maxRecords and maxBytes, returns at least one record, and is empty at the end', async () => {
  await withLog({}, async (log) => {
    await log.createTopic('t')
    await log.append('t', 0, [{ value: Buffer.alloc(5000) }, ...values(10)])
    assert.equal((await log.readBatch('t', 0, 0, { maxBytes: 10 })).offsets.length, 1)
    assert.deepEqual((await log.readBatch('t', 0, 1, { maxRecords: 4 })).offsets, [1, 2, 3, 4])
    const end = await log.readBatch('t', 0, 11)
    assert.deepEqual([end.offsets, end.nextOffset], [[], 11])
  })
})

test('reading outside the stored range is a SLUICE_LOG_OFFSET_OUT_OF_RANGE error', async () => {
  await withLog({}, async (log) => {
    await log.createTopic('t')
    await log.append('t', 0, values(3))
    await assert.rejects(log.readBatch('t', 0, 4), (e: SluiceError) => e.code === 'SLUICE_LOG_OFFSET_OUT_OF_RANGE' && e.position === 4)
    await assert.rejects(log.readBatch('t', 0, -1), (e: SluiceError) => e.code === 'SLUICE_LOG_OFFSET_OUT_OF_RANGE')
    assert.throws(() => log.readBatch('nope', 0, 0), (e: SluiceError) => e.code === 'SLUICE_LOG_NO_TOPIC')
    assert.throws(() => log.readBatch('t', 1, 0), (e: SluiceError) => e.code === 'SLUICE_LOG_NO_PARTITION')
  })
})

test('offsetForTimestamp finds the first record at or after a time, with timestamps out of order', async () => {
  await withLog({ segmentBytes: 600, indexIntervalBytes: 80 }, async (log, _dir, reopen) => {
    await log.createTopic('t')
    // Timestamps mostly rise, with some records late: t(i) = 10 * i, except every 7th which is 35 older.
    const ts = Array.from({ length: 60 }, (_, i) => (i % 7 === 6 ? 10 * i - 35 : 10 * i))
    for (let i = 0; i < 60; i += 6) await log.append('t', 0, ts.slice(i, i + 6).map((timestamp, j) => ({ value: `v${i + j}`, timestamp })))
    const expected = (t: number) => {
      const i = ts.findIndex((x) => x >= t)
      return i < 0 ? 60 : i
    }
    for (const reopening of [false, true]) {
      const l = reopening ? await reopen() : log
      for (const t of [-100, 0, 1, 25, 26, 200, 205, 391, 590, 591, 10_000]) {
        assert.equal(await l.offsetForTimestamp('t', 0, t), expected(t), `t=${t}`)
      }
      const b = await l.readFromTimestamp('t', 0, 300, { maxRecords: 2 })
      assert.deepEqual(b.offsets, [30, 31])
    }
  })
})

test('concurrent appends share writes and fdatasyncs (group commit) and keep call order', async () => {
  await withLog({ fsync: 'always' }, async (log) => {
    await log.createTopic('t')
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append('t', 0, values(10, i * 10))))
    assert.deepEqual(results.map((r) => r.baseOffset), Array.from({ length: 50 }, (_, i) => i * 10))
    const stats = log.topic('t').partition(0).stats
    assert.equal(stats.appends, 50)
    assert.ok(stats.writes < 50 && stats.writes >= 1, `${stats.writes} writes`)
    assert.equal(stats.syncs, stats.writes)
    assert.deepEqual((await readAll(log, 't', 0)).values, Array.from({ length: 500 }, (_, i) => `v${i}`))
  })
})

test("fsync 'interval' and 'never' acknowledge after the write; flush and close sync", async () => {
  for (const fsync of ['interval', 'never'] as const) {
    await withLog({ fsync, intervalMs: 60_000 }, async (log, _dir, reopen) => {
      await log.createTopic('t')
      await log.append('t', 0, values(3))
      assert.equal(log.topic('t').partition(0).stats.syncs, 0)
      await log.flush()
      assert.equal(log.topic('t').partition(0).stats.syncs, 1)
      await log.append('t', 0, values(2, 3))
      log = await reopen()
      assert.deepEqual((await readAll(log, 't', 0)).values, ['v0', 'v1', 'v2', 'v3', 'v4'])
    })
  }
})

test('a missing or damaged sealed index is rebuilt from its segment', async () => {
  await withLog({ segmentBytes: 500, indexIntervalBytes: 60 }, async (log, dir, reopen) => {
    await log.createTopic('t')
    for (let i = 0; i < 20; i++) await log.append('t', 0, values(5, i * 5))
    const pdir = join(dir, 'topics', 't', '0')
    await log.close()
    const indexes = (await readdir(pdir)).filter((f) => f.endsWith('.index')).sort()
    await rm(join(pdir, indexes[0]))
    await writeFile(join(pdir, indexes[1]), 'garbage')
    const logger = memoryLogger()
    log = await reopen({ logger })
    assert.equal(logger.lines.length, 2)
    assert.match(logger.lines[0], /rebuilt the index of t\/0 segment 00000000000000000000\.log/)
    assert.deepEqual((await readAll(log, 't', 0)).values, Array.from({ length: 100 }, (_, i) => `v${i}`))
    assert.deepEqual((await readdir(pdir)).filter((f) => f.endsWith('.index')).sort(), indexes)
  })
})

test('topics are listed and described; createTopic refuses a duplicate, ensureTopic returns it', async () => {
  await withLog({}, async (log, _dir, reopen) => {
    await log.createTopic('b', { partitions: 3, retentionMs: '1d' })
    await log.ensureTopic('a')
    await assert.rejects(log.createTopic('a'), (e: SluiceError) => e.code === 'SLUICE_LOG_TOPIC_EXISTS')
    await assert.rejects(log.createTopic('../x'), (e: SluiceError) => e.code === 'SLUICE_LOG_BAD_TOPIC')
    assert.equal((await log.ensureTopic('b', { partitions: 9 })).partitions.length, 3)
    await log.append('b', 2, values(4))
    log = await reopen()
    assert.deepEqual(log.listTopics(), ['a', 'b'])
    const d = log.describe('b')
    assert.equal(d.config.retentionMs, 86_400_000)
    assert.deepEqual(
      d.partitions.map((p) => [p.partition, p.startOffset, p.endOffset, p.segments]),
      [
        [0, 0, 0, 1],
        [1, 0, 0, 1],
        [2, 0, 4, 1],
      ],
    )
    assert.ok(d.partitions[2].sizeBytes > d.partitions[1].sizeBytes)
  })
})

test('bad records are refused with SLUICE_LOG_BAD_RECORD and take no offset', async () => {
  await withLog({ maxRecordBytes: 200 }, async (log) => {
    await log.createTopic('t')
    await assert.rejects(log.append('t', 0, [{ value: 'ok' }, { value: 5 as unknown as string }]), (e: SluiceError) => e.code === 'SLUICE_LOG_BAD_RECORD' && e.position === 1)
    await assert.rejects(log.append('t', 0, [{ value: 'x', timestamp: 1.5 }]), (e: SluiceError) => e.code === 'SLUICE_LOG_BAD_RECORD')
    await assert.rejects(log.append('t', 0, [{ value: Buffer.alloc(300) }]), (e: SluiceError) => e.code === 'SLUICE_LOG_BAD_RECORD')
    assert.equal((await log.append('t', 0, values(1))).baseOffset, 0)
  })
})

test('a log folder is open in one place at a time; the lock of a dead process is taken over', async () => {
  const { dir, cleanup } = await tempDir()
  try {
    const log = await openLog(dir, { retentionCheckMs: 0 })
    await assert.rejects(openLog(dir), (e: SluiceError) => e.code === 'SLUICE_LOG_LOCKED')
    await log.close()
    await writeFile(join(dir, 'LOCK'), '999999999\n')
    const again = await openLog(dir, { retentionCheckMs: 0 })
    await again.close()
  } finally {
    await cleanup()
  }
})

test("an fdatasync failure under 'interval' fails the next append, and close, instead of being swallowed", async () => {
  const logger = memoryLogger()
  const { dir, cleanup } = await tempDir()
  const log = await openLog(dir, { retentionCheckMs: 0, fsync: 'interval', intervalMs: 5, logger })
  try {
    await log.createTopic('t')
    await log.append('t', 0, values(3))
    const part = log.topic('t').partition(0)
    // Inject the failure where the OS would report it: the segment's file handle.
    const fh = await part.segments[part.segments.length - 1].handle()
    fh.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
    while (!part.failed) await new Promise((r) => setTimeout(r, 5))
    await assert.rejects(log.append('t', 0, values(1, 3)), (e: SluiceError) => e.code === 'SLUICE_LOG_IO' && /t\/0: fdatasync failed/.test(e.message))
    await assert.rejects(log.flush(), (e: SluiceError) => e.code === 'SLUICE_LOG_IO')
    assert.equal(logger.lines.filter((l) => /fdatasync failed/.test(l)).length, 1)
    await assert.rejects(log.close(), (e: SluiceError) => e.code === 'SLUICE_LOG_IO')
  } finally {
    await log.close().catch(() => undefined)
    await cleanup()
  }
})
