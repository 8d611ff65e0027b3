import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run } from '../../src/index.ts'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import { prng, runChild } from '../checkpoint/crash.ts'
import build from './fixtures/many-files.ts'

// A file source over more files than subtasks, of very different sizes: each subtask starts with one file and
// asks thread 0 for another when its files have ended. The output must not depend on the parallelism, nor on
// where runs were killed and at which parallelism they were restored.

const module = new URL('./fixtures/many-files.ts', import.meta.url).href
const child = fileURLToPath(new URL('./fixtures/many-files-child.ts', import.meta.url))
const SIZES = [3000, 40, 40, 2200, 10, 600, 1500, 5, 1100, 90, 1800, 60, 500, 900]

async function withInput<R>(fn: (tmp: string, input: string) => Promise<R>): Promise<R> {
  const tmp = await mkdtemp(join(tmpdir(), 'sluice-splits-'))
  try {
    const rnd = prng(7)
    await mkdir(join(tmp, 'in'))
    for (let f = 0; f < SIZES.length; f++) {
      const lines: string[] = []
      // Event times rise within a file (jitter under the 2 s bound); every file starts at 0, so files overlap in time.
      for (let i = 0; i < SIZES[f]; i++) lines.push(JSON.stringify({ user: Math.floor(rnd() * 50), ts: i * 37 + Math.floor(rnd() * 1500) }))
      await writeFile(join(tmp, 'in', `part-${String(f).padStart(2, '0')}.jsonl`), lines.join('\n') + '\n')
    }
    return await fn(tmp, join(tmp, 'in', '*.jsonl'))
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

async function output(dir: string): Promise<string[]> {
  const lines: string[] = []
  for (const f of await committedParts(dir)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') lines.push(l)
  return lines.sort()
}

async function straight(input: string, out: string, parallelism: number): Promise<string[]> {
  const params = { input, out }
  const s = await run(build({ params }), { parallelism, module, params })
  assert.equal(s.status, 'finished')
  assert.equal(s.recordsIn, SIZES.reduce((a, b) => a + b, 0))
  return output(out)
}

test('a file source with more files than subtasks gives the same output at parallelism 1, 2 and 3', async () => {
  await withInput(async (tmp, input) => {
    const want = await straight(input, join(tmp, 'p1'), 1)
    assert.ok(want.length > 100)
    assert.deepEqual(await straight(input, join(tmp, 'p2'), 2), want)
    assert.deepEqual(await straight(input, join(tmp, 'p3'), 3), want)
  })
})

test('killed with SIGKILL and restored at another parallelism each time, the committed output is that of one straight run', async () => {
  await withInput(async (tmp, input) => {
    const want = await straight(input, join(tmp, 'expected'), 1)
    const out = join(tmp, 'out')
    const chk = join(tmp, 'chk')
    const rnd = prng(11)
    const order = [2, 3, 2, 3, 2]
    let kills = 0
    for (let attempt = 0; ; attempt++) {
      const parallelism = order[attempt % order.length]
      const killAfterMs = attempt < 4 ? 400 + Math.floor(rnd() * 1200) : undefined
      const r = await runChild(out, chk, { child, killAfterMs, args: [input, out, chk, String(parallelism)] })
      if (r.code === 0) break
      assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
      kills++
    }
    assert.ok(kills >= 1, 'the child was never killed: the run was too short for this test')
    assert.deepEqual(await output(out), want)
  })
})
