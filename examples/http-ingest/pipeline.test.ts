// Runs the example as its README says: the job listens, the client posts 1,000 readings as NDJSON, the job
// catches up and is stopped (SIGTERM: a last checkpoint, then the end); every acknowledged reading is in the
// output once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { postReadings, reading } from './client.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

test('http-ingest: every acknowledged reading is in the output once; a wrong token is refused', async () => {
  rmSync(out, { recursive: true, force: true })
  const port = await freePort()
  const job = spawn(process.execPath, ['bin/sluice.js', 'run', 'examples/http-ingest/pipeline.ts', '--checkpoint-dir', 'examples/http-ingest/out/chk', '--quiet'], {
    cwd: root,
    env: { ...process.env, INGEST_PORT: String(port), INGEST_TOKEN: 'dev-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  job.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => job.on('close', (code) => resolve(code)))
  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = ''
      job.stdout!.on('data', (d) => {
        stdout += d
        if (stdout.includes('listening on')) resolve()
      })
      void exited.then(() => reject(new Error(`the job ended before it listened: ${stderr}`)))
    })
    const refused = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body: '{"id":-1}\n', headers: { authorization: 'Bearer wrong' } })
    assert.equal(refused.status, 401)
    const acknowledged = await postReadings(1000, port, 'dev-token')
    assert.equal(acknowledged.length, 1000)
    // A stop ends the reading of the log: wait until the pipeline has caught up with what was acknowledged.
    const lines = () => (existsSync(`${out}events.jsonl`) ? readFileSync(`${out}events.jsonl`, 'utf8').split('\n').length - 1 : 0)
    for (let i = 0; i < 1200 && lines() < acknowledged.length; i++) await sleep(100)
    job.kill('SIGTERM')
    assert.equal(await exited, 143, stderr) // stopped by SIGTERM, gracefully
    const got = readFileSync(`${out}events.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number })
    assert.deepEqual(got.map((r) => r.id).sort((a, b) => a - b), acknowledged)
    assert.deepEqual(got.find((r) => r.id === 5), { ...reading(5), level: 'high' })
  } finally {
    job.kill('SIGKILL')
    rmSync(out, { recursive: true, force: true })
  }
})
