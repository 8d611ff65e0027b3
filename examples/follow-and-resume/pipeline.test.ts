// Runs the job over a file that grows while it runs and while it is stopped: events appended are
// picked up, Ctrl-C stops it (exit code 130), and started again with the same checkpoint folder it goes on
// where it left off. Every event that is not debug output is written exactly once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { LogEvent } from './pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const lines = readFileSync(new URL('data/events.jsonl', import.meta.url), 'utf8').trim().split('\n')
const kept = (n: number) => lines.slice(0, n).map((l) => JSON.parse(l) as LogEvent).filter((e) => e.level !== 'debug').map((e) => e.id)

/** The ids in the committed output (part files of a folder, or one file). */
function committedIds(): number[] {
  const path = join(out, 'events')
  if (!existsSync(path)) return []
  const files = statSync(path).isFile() ? [path] : readdirSync(path).filter((f) => /^part-.*\.jsonl$/.test(f)).map((f) => join(path, f))
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { id: number }).id)).sort((a, b) => a - b)
}

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

function start() {
  const job = spawn(process.execPath, ['bin/sluice.js', 'run', 'examples/follow-and-resume/pipeline.ts', '--quiet', '--checkpoint-dir', 'examples/follow-and-resume/out/chk', '--checkpoint-interval', '200ms'], { cwd: root })
  let stderr = ''
  job.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => job.on('close', resolve))
  const guard = setTimeout(() => job.kill('SIGKILL'), 240_000)
  return {
    async stop(): Promise<{ code: number | null; stderr: string }> {
      job.kill('SIGINT')
      const code = await exited
      clearTimeout(guard)
      return { code, stderr }
    },
  }
}

const covers = (n: number) => () => {
  const got = new Set(committedIds())
  return kept(n).every((id) => got.has(id))
}

test('follow-and-resume: appended events are picked up, and a stopped job resumes without loss or duplicates', async () => {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const input = join(out, 'app.log.jsonl')
  writeFileSync(input, lines.slice(0, 40).join('\n') + '\n')

  const first = start()
  await until('the first 40 events', covers(40))
  appendFileSync(input, lines.slice(40, 70).join('\n') + '\n')
  await until('the 30 appended events', covers(70))
  const stopped = await first.stop()
  assert.equal(stopped.code, 130, stopped.stderr)

  // Written while the job is not running.
  appendFileSync(input, lines.slice(70).join('\n') + '\n')
  const second = start()
  await until('the events appended while stopped', covers(100))
  assert.equal((await second.stop()).code, 130)

  assert.deepEqual(committedIds(), kept(100), 'each event exactly once')
  assert.equal(kept(100).length, 68)
})
