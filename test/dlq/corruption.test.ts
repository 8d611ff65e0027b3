import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeadLetterWriter } from '../../src/dlq/writer.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { commitsPath } from '../../src/dlq/commits.ts'
import { deadLetter } from '../../src/dlq/record.ts'
import { repairLog } from '../../src/log/repair.ts'
import type { SluiceError } from '../../src/core/errors.ts'

/**
 * Damage the files of a dead-letter topic (its commit state, its log segment) and read it back: either
 * the exact committed letters or a clear SLUICE_DLQ_CORRUPT / SLUICE_LOG_CORRUPT refusal, never fewer
 * letters without a word.
 */

const TOTAL = 120

async function prepared(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-corrupt-'))
  const w = await DeadLetterWriter.open({ dir, topic: 't.dlq', checkpointing: true, log: { logger: { warn() {} } } })
  await w.recover([])
  for (let c = 1; c <= 4; c++) {
    for (let i = 0; i < TOTAL / 4; i++) {
      const n = (c - 1) * (TOTAL / 4) + i
      w.add(deadLetter({ pipeline: 'p', step: 's', reason: 'parse', error: new Error('bad'), position: `in:${n}`, attempts: 1, time: 1000 + n, eventTime: undefined, record: `line ${n}`, raw: true, includeStack: false }))
    }
    const h = await w.preCommit(c)
    await w.commit(c, h)
  }
  await w.close(false)
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

type Outcome = 'exact' | 'refused'

async function readBack(dir: string): Promise<Outcome> {
  let letters
  try {
    letters = await readDeadLetters(dir, 't.dlq')
  } catch (e) {
    const err = e as SluiceError
    assert.ok(err.code === 'SLUICE_DLQ_CORRUPT' || err.code === 'SLUICE_LOG_CORRUPT', String(e))
    assert.match(err.message, /t\.dlq/)
    return 'refused'
  }
  assert.deepEqual(
    letters.map((l) => l.record),
    Array.from({ length: TOTAL }, (_, n) => `line ${n}`),
  )
  return 'exact'
}

test('a deleted, truncated or unparsable commit state is refused, never read as "no letters committed"', async () => {
  for (const damage of ['delete', 'truncate', 'garbage'] as const) {
    const { dir, cleanup } = await prepared()
    try {
      assert.equal(await readBack(dir), 'exact')
      const path = commitsPath(dir, 't.dlq')
      if (damage === 'delete') await rm(path)
      else if (damage === 'truncate') await truncate(path, 20)
      else await writeFile(path, '{"version":1,')
      assert.equal(await readBack(dir), 'refused', damage)
    } finally {
      await cleanup()
    }
  }
})

test('a commit state that claims more letters than the log holds (the log was cut) is refused', async () => {
  const { dir, cleanup } = await prepared()
  try {
    const path = commitsPath(dir, 't.dlq')
    const c = JSON.parse(await readFile(path, 'utf8'))
    c.partitions['0'].committed = [[0, TOTAL + 5]]
    await writeFile(path, JSON.stringify(c))
    assert.equal(await readBack(dir), 'refused')
  } finally {
    await cleanup()
  }
})

test('a flipped byte in a letter in the middle of the log is refused; after repair the other letters read exactly', async () => {
  const { dir, cleanup } = await prepared()
  try {
    const pdir = join(dir, 'topics', 't.dlq', '0')
    const seg = join(pdir, (await readdir(pdir)).filter((f) => f.endsWith('.log'))[0])
    const b = await readFile(seg)
    b[Math.floor(b.length / 2)] ^= 0x20
    await writeFile(seg, b)
    assert.equal(await readBack(dir), 'refused')
    const copy = await mkdtemp(join(tmpdir(), 'sluice-dlq-corrupt-'))
    try {
      await cp(dir, copy, { recursive: true })
      const [a] = await repairLog(copy)
      assert.equal(a.kind, 'damaged')
      const letters = await readDeadLetters(copy, 't.dlq')
      // Exactly the letters outside the quarantined bytes, unchanged.
      assert.equal(letters.length, TOTAL - (a.lostTo - a.lostFrom))
      for (const l of letters) assert.equal(l.record, `line ${l.offset}`)
    } finally {
      await rm(copy, { recursive: true, force: true })
    }
  } finally {
    await cleanup()
  }
})
