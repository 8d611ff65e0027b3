import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { committedParts } from '../../../src/connectors/files/part-files.ts'
import { prng } from '../../checkpoint/crash.ts'

// source.http killed with SIGKILL while clients post: every record that was acknowledged (200) is in the output
// exactly once, and no record is there twice.

const child = fileURLToPath(new URL('./fixtures/ingest-child.ts', import.meta.url))

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function startChild(args: string[]): Promise<{ p: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> }> {
  const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  p.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stderr })))
  const guard = setTimeout(() => p.kill('SIGKILL'), 120_000)
  void exited.then(() => clearTimeout(guard))
  return new Promise((resolve, reject) => {
    let out = ''
    p.stdout!.on('data', (d) => {
      out += d
      if (out.includes('listening')) resolve({ p, exited })
    })
    void exited.then((r) => reject(new Error(`the child ended before it listened: ${r.stderr}`)))
  })
}

/** Posts records [from, from + n) as NDJSON; true when they were acknowledged. */
async function post(port: number, from: number, n: number): Promise<boolean> {
  let body = ''
  for (let i = from; i < from + n; i++) body += JSON.stringify({ id: i }) + '\n'
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ingest`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', authorization: 'Bearer secret' } })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

async function output(out: string): Promise<number[]> {
  if (!existsSync(out)) return []
  const ids: number[] = []
  for (const f of await committedParts(out)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') ids.push((JSON.parse(l) as { id: number }).id)
  return ids
}

test('source.http, SIGKILLed while clients post: every acknowledged record in the output exactly once', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-http-crash-'))
  const port = await freePort()
  const args = [String(port), join(base, 'log'), join(base, 'out'), join(base, 'chk')]
  const rnd = prng(21)
  const acked = new Set<number>()
  let next = 0
  try {
    for (let run = 0; run < 4; run++) {
      const { p, exited } = await startChild(args)
      const last = run === 3
      // Clients post until the child is killed (after a random number of requests) or, the last time, for a while.
      const requests = last ? 30 : 10 + Math.floor(rnd() * 40)
      const killAt = Math.floor(rnd() * requests)
      const inFlight: Promise<void>[] = []
      for (let r = 0; r < requests; r++) {
        const from = next
        next += 25
        inFlight.push(post(port, from, 25).then((ok) => {
          if (ok) for (let i = from; i < from + 25; i++) acked.add(i)
        }))
        if (!last && r === killAt) p.kill('SIGKILL')
        if (r % 4 === 3) await Promise.all(inFlight.splice(0))
      }
      await Promise.all(inFlight)
      if (!last) {
        p.kill('SIGKILL')
        assert.equal((await exited).signal, 'SIGKILL')
        continue
      }
      // Wait until every acknowledged record is committed, then stop gracefully.
      const allIn = async () => {
        const have = new Set(await output(args[2]))
        return [...acked].every((id) => have.has(id))
      }
      for (let i = 0; i < 600 && !(await allIn()); i++) await sleep(100)
      p.kill('SIGTERM')
      const end = await exited
      assert.equal(end.code, 0, end.stderr)
    }
    const got = await output(args[2])
    const seen = new Set<number>()
    for (const id of got) {
      assert.ok(!seen.has(id), `record ${id} is in the output twice`)
      seen.add(id)
    }
    for (const id of acked) assert.ok(seen.has(id), `acknowledged record ${id} is missing`)
    assert.ok(acked.size > 0)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})
