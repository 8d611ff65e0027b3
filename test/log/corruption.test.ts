import { test } from 'node:test'
import assert from 'node:assert/strict'
import { open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { openLog, type Log } from '../../src/log/index.ts'
import { repairLog } from '../../src/log/repair.ts'
import { memoryLogger, tempDir } from '../../src/log/test-util.ts'
import type { SluiceError } from '../../src/core/errors.ts'

/**
 * Damage every kind of file the log writes (segments sealed and last, indexes, partition.json), reopen,
 * and check the outcome is one of: the exact records, a cut torn tail reported on the logger, or a
 * clear SLUICE_LOG_CORRUPT refusal that names the place and the repair command. After `repairLog`, every
 * record outside the damaged bytes is back at its own offset.
 */

const N = 60
const value = (i: number) => `record-${i}-${'x'.repeat(i % 7)}`

async function prepared(): Promise<{ dir: string; pdir: string; segs: string[]; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir()
  const log = await openLog(dir, { retentionCheckMs: 0, segmentBytes: 600, indexIntervalBytes: 100, logger: memoryLogger() })
  await log.createTopic('t')
  for (let i = 0; i < N; i += 3) await log.append('t', 0, [0, 1, 2].map((k) => ({ value: value(i + k), timestamp: 1000 + i + k })))
  await log.close()
  const pdir = join(dir, 'topics', 't', '0')
  const segs = (await readdir(pdir)).filter((f) => f.endsWith('.log')).sort()
  assert.ok(segs.length >= 4, `${segs.length} segments`)
  return { dir, pdir, segs, cleanup }
}

async function readAll(log: Log): Promise<Map<number, string>> {
  const out = new Map<number, string>()
  const p = log.describe('t').partitions[0]
  let off = p.startOffset
  while (off < p.endOffset) {
    const b = await log.readBatch('t', 0, off, { maxRecords: 7 })
    if (b.offsets.length === 0) break
    b.offsets.forEach((o, i) => out.set(o, b.values[i].toString()))
    off = b.nextOffset
  }
  return out
}

type Outcome = { kind: 'exact' } | { kind: 'cut'; survivors: number } | { kind: 'refused'; error: SluiceError }

async function reopen(dir: string): Promise<Outcome> {
  const logger = memoryLogger()
  let log: Log
  try {
    log = await openLog(dir, { retentionCheckMs: 0, logger })
  } catch (e) {
    const err = e as SluiceError
    assert.equal(err.code, 'SLUICE_LOG_CORRUPT', String(e))
    assert.match(err.message, /log topic 't' partition 0/)
    assert.match(err.hint ?? '', /sluice log repair .* --topic t/)
    return { kind: 'refused', error: err }
  }
  try {
    let got: Map<number, string>
    try {
      got = await readAll(log)
    } catch (e) {
      // Damage inside an older segment (before its last index entry) shows when it is read.
      const err = e as SluiceError
      assert.equal(err.code, 'SLUICE_LOG_CORRUPT', String(e))
      assert.match(err.message, /log topic 't' partition 0: segment file \d{20}\.log is damaged at byte \d+/)
      assert.match(err.hint ?? '', /sluice log repair .* --topic t/)
      return { kind: 'refused', error: err }
    }
    // Whatever opened holds exact records at their own offsets, from 0 on, with no hole.
    for (const [o, v] of got) assert.equal(v, value(o))
    const cut = logger.lines.some((l) => /cut \d+ bytes/.test(l))
    if (got.size === N) return { kind: 'exact' }
    assert.ok(cut, `records lost without a word: ${got.size} of ${N}, log: ${logger.lines.join(' | ')}`)
    assert.deepEqual([...got.keys()], Array.from({ length: got.size }, (_, i) => i))
    // Only a torn tail is cut: the last segment's last record.
    assert.equal(got.size, N - 1)
    return { kind: 'cut', survivors: got.size }
  } finally {
    await log.close()
  }
}

/** After repair: every record but at most `maxLost` is at its offset, the rest read whole; appends go after the old end. */
async function repairedHolds(dir: string, maxLost: number): Promise<void> {
  await repairLog(dir, { topic: 't' })
  const log = await openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() })
  try {
    const got = await readAll(log)
    for (const [o, v] of got) assert.equal(v, value(o), `offset ${o}`)
    assert.ok(N - got.size <= maxLost, `${N - got.size} records lost, at most ${maxLost} expected`)
    assert.equal(log.describe('t').partitions[0].records, got.size)
    const end = log.describe('t').partitions[0].endOffset
    assert.ok(end >= N - 1)
    assert.equal((await log.append('t', 0, [{ value: 'after' }])).baseOffset, end)
  } finally {
    await log.close()
  }
}

async function flip(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+')
  const b = Buffer.alloc(1)
  await fh.read(b, 0, 1, at)
  b[0] ^= 0x5a
  await fh.write(b, 0, 1, at)
  await fh.close()
}

test('a flipped byte in the middle of the last segment stops the open with file, byte and repair command; repair keeps every later record', async () => {
  const { dir, pdir, segs, cleanup } = await prepared()
  try {
    const last = join(pdir, segs[segs.length - 1])
    await flip(last, 40)
    const r = await reopen(dir)
    assert.equal(r.kind, 'refused')
    const e = (r as { error: SluiceError }).error
    assert.match(e.message, new RegExp(`segment file ${segs[segs.length - 1]} is damaged at byte 16`))
    await repairedHolds(dir, 1)
    const q = await readdir(join(pdir, 'quarantine'))
    assert.equal(q.length, 1)
    assert.ok((await readFile(join(pdir, 'quarantine', q[0]))).length > 0)
    const meta = JSON.parse(await readFile(join(pdir, 'partition.json'), 'utf8'))
    assert.equal(meta.gaps.length, 1)
    // A second repair finds nothing to do.
    assert.deepEqual(await repairLog(dir), [])
  } finally {
    await cleanup()
  }
})

test('single-byte flips across every segment (header, frame heads, seeded random bytes): exact records, a reported torn tail, or a refusal; repair then loses at most the damaged record', async () => {
  const { dir, pdir, segs, cleanup } = await prepared()
  try {
    const originals = new Map<string, Buffer>()
    for (const s of segs) originals.set(s, await readFile(join(pdir, s)))
    let refused = 0
    let cut = 0
    for (const s of segs) {
      const size = originals.get(s)!.length
      const spots = [0, 9, 16, 20, 30, size - 1, ...Array.from({ length: 6 }, () => Math.floor(rand() * size))]
      for (const at of spots) {
        const { dir: d2, cleanup: c2 } = await tempDir()
        try {
          await copyLog(dir, d2)
          const p2 = join(d2, 'topics', 't', '0')
          await flip(join(p2, s), at)
          const r = await reopen(d2)
          if (r.kind === 'refused') refused++
          if (r.kind === 'cut') cut++
          await repairedHolds(d2, 1)
        } finally {
          await c2()
        }
      }
    }
    assert.ok(refused > 0 && cut > 0, `${refused} refused, ${cut} cut`)
  } finally {
    await cleanup()
  }
})

test('a truncated sealed segment is refused (records missing), and repair keeps the segments after it', async () => {
  const { dir, pdir, segs, cleanup } = await prepared()
  try {
    const first = join(pdir, segs[0])
    await truncate(first, (await stat(first)).size - 10)
    assert.equal((await reopen(dir)).kind, 'refused')
    await repairedHolds(dir, 1)
  } finally {
    await cleanup()
  }
})

test('a truncated last segment is a torn tail: cut to the last whole record with a warning', async () => {
  const { dir, pdir, segs, cleanup } = await prepared()
  try {
    const last = join(pdir, segs[segs.length - 1])
    await truncate(last, (await stat(last)).size - 3)
    assert.deepEqual(await reopen(dir), { kind: 'cut', survivors: N - 1 })
  } finally {
    await cleanup()
  }
})

test('a deleted middle, first or last segment, or all of them, is an error and never a silent restart; repair keeps offsets used', async () => {
  for (const which of ['middle', 'first', 'last', 'all'] as const) {
    const { dir, pdir, segs, cleanup } = await prepared()
    try {
      const gone = which === 'middle' ? [segs[1]] : which === 'first' ? [segs[0]] : which === 'last' ? [segs[segs.length - 1]] : segs
      for (const s of gone) await rm(join(pdir, s))
      const r = await reopen(dir)
      assert.equal(r.kind, 'refused', which)
      assert.match((r as { error: SluiceError }).error.message, /missing/)
      await repairLog(dir, { topic: 't' })
      const log = await openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() })
      try {
        const got = await readAll(log)
        for (const [o, v] of got) assert.equal(v, value(o))
        const lastBase = Number(segs[segs.length - 1].slice(0, 20))
        // New records never reuse an offset that was given before.
        const next = (await log.append('t', 0, [{ value: 'after' }])).baseOffset
        assert.ok(which === 'last' || which === 'all' ? next >= lastBase : next === N, `${which}: next offset ${next}`)
        if (which === 'middle') assert.equal(got.size, N - (Number(segs[2].slice(0, 20)) - Number(segs[1].slice(0, 20))))
      } finally {
        await log.close()
      }
    } finally {
      await cleanup()
    }
  }
})

test('a partition folder emptied or deleted is refused; repair starts it again empty', async () => {
  for (const how of ['emptied', 'deleted'] as const) {
    const { dir, pdir, cleanup } = await prepared()
    try {
      if (how === 'deleted') await rm(pdir, { recursive: true })
      else for (const f of await readdir(pdir)) await rm(join(pdir, f), { recursive: true })
      const r = await reopen(dir)
      assert.equal(r.kind, 'refused', how)
      assert.match((r as { error: SluiceError }).error.message, /holds no segment/)
      assert.deepEqual((await repairLog(dir)).map((a) => a.kind), ['missing'])
      const log = await openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() })
      assert.equal(log.describe('t').partitions[0].endOffset, 0)
      await log.close()
    } finally {
      await cleanup()
    }
  }
})

test('a deleted, truncated or flipped topic.json is refused; repair writes it again', async () => {
  for (const damage of ['delete', 'truncate', 'flip'] as const) {
    const { dir, cleanup } = await prepared()
    try {
      const path = join(dir, 'topics', 't', 'topic.json')
      if (damage === 'delete') await rm(path)
      else if (damage === 'truncate') await truncate(path, 10)
      else await flip(path, 0)
      await assert.rejects(openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() }), (e: SluiceError) => e.code === 'SLUICE_LOG_CORRUPT' && /topic 't'.*topic\.json/.test(e.message), damage)
      assert.deepEqual((await repairLog(dir)).map((a) => [a.kind, a.segment]), [['meta', 'topic.json']])
      assert.deepEqual(await reopen(dir), { kind: 'exact' })
    } finally {
      await cleanup()
    }
  }
})

test('a damaged, truncated or deleted index is rebuilt and the records are exact', async () => {
  for (const damage of ['flip', 'truncate', 'delete'] as const) {
    const { dir, pdir, cleanup } = await prepared()
    try {
      const indexes = (await readdir(pdir)).filter((f) => f.endsWith('.index')).sort()
      for (const ix of indexes) {
        const path = join(pdir, ix)
        if (damage === 'delete') await rm(path)
        else if (damage === 'truncate') await truncate(path, Math.max(0, (await stat(path)).size - 5))
        else if ((await stat(path)).size > 30) await flip(path, 30)
      }
      assert.deepEqual(await reopen(dir), { kind: 'exact' })
    } finally {
      await cleanup()
    }
  }
})

test('a damaged partition.json is refused with a clear message', async () => {
  const { dir, pdir, cleanup } = await prepared()
  try {
    await truncate(join(pdir, 'partition.json'), 5)
    await assert.rejects(openLog(dir, { retentionCheckMs: 0, logger: memoryLogger() }), (e: SluiceError) => e.code === 'SLUICE_LOG_CORRUPT' && /partition\.json/.test(e.message))
    assert.deepEqual((await repairLog(dir)).map((a) => a.kind), ['meta'])
    assert.deepEqual(await reopen(dir), { kind: 'exact' })
  } finally {
    await cleanup()
  }
})

/** A seeded PRNG (mulberry32), so a failure replays. */
let seed = 0x5eed
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

async function copyLog(from: string, to: string): Promise<void> {
  const { cp } = await import('node:fs/promises')
  await cp(from, to, { recursive: true })
}
