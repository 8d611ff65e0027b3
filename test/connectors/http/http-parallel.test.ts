import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { committedParts } from '../../../src/connectors/files/part-files.ts'
import { start } from '../../../src/index.ts'
import { build } from './fixtures/http-parallel.ts'

const module = new URL('./fixtures/http-parallel.ts', import.meta.url).href

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function output(out: string): Promise<{ ids: number[]; subtasks: Set<string> }> {
  const ids: number[] = []
  const subtasks = new Set<string>()
  if (!existsSync(out)) return { ids, subtasks }
  for (const f of await committedParts(out)) {
    subtasks.add(basename(f).split('-')[1])
    for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') ids.push((JSON.parse(l) as { id: number }).id)
  }
  return { ids, subtasks }
}

test('source.http at parallelism 2: one listener on subtask 0, every accepted record once, the steps after the key on both subtasks', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-http-p2-'))
  const params = { port: String(await freePort()), log: join(base, 'log'), out: join(base, 'out') }
  const job = start(build(params), { parallelism: 2, module, params, checkpoint: { dir: join(base, 'chk'), intervalMs: 50 } })
  try {
    let sent = 0
    for (let i = 0; i < 200 && sent < 400; i++) {
      const body = Array.from({ length: 50 }, (_, k) => JSON.stringify({ id: sent + k })).join('\n')
      const r = await fetch(`http://127.0.0.1:${params.port}/`, { method: 'POST', body }).catch(() => undefined)
      if (r?.status === 200) sent += 50
      else await sleep(50) // not listening yet, or 429
    }
    assert.equal(sent, 400)
    for (let i = 0; i < 400 && (await output(params.out)).ids.length < sent; i++) await sleep(50)
    await job.stop()
    await job.done
    const { ids, subtasks } = await output(params.out)
    assert.deepEqual(ids.sort((a, b) => a - b), Array.from({ length: 400 }, (_, i) => i))
    assert.deepEqual([...subtasks].sort(), ['0', '1'], 'both subtasks of the sink wrote records')
  } finally {
    await job.stop().catch(() => undefined)
    await rm(base, { recursive: true, force: true })
  }
})
