import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { seededRandom } from '../../src/workflow/retry.ts'
import { WorkflowStore } from '../../src/workflow/store.ts'

const child = fileURLToPath(new URL('./kill-child.ts', import.meta.url))

/**
 * Starts the scheduler process; it kills itself with SIGKILL right after the `killAt`-th line its attempts write
 * (inside an attempt: mid-work, or with the work done and its success not yet recorded), or, undefined, finishes.
 * Killing at points of the run's progress rather than after a wall-clock delay makes every kill land mid-run
 * however fast the machine is.
 */
function runChild(store: string, effects: string, seed: number, killAt: number | undefined): Promise<{ killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, store, effects, String(seed), ...(killAt !== undefined ? [String(killAt)] : [])], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    p.on('error', reject)
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve({ killed: true, out }) : code === 0 ? resolve({ killed: false, out }) : reject(new Error(`child exited with ${code}`))))
  })
}

test('a scheduler killed with SIGKILL at seeded random moments of its run resumes: every (task, partition) succeeds exactly once, none skipped', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-kill-'))
  try {
    const store = join(dir, 'runs.db')
    const effects = join(dir, 'effects.log')
    const rnd = seededRandom(17)
    let kills = 0
    for (let i = 0; i < 12; i++) {
      const r = await runChild(store, effects, i + 1, 1 + Math.floor(rnd() * 8))
      if (r.killed) kills++
      else break
    }
    const last = await runChild(store, effects, 99, undefined)
    assert.equal(last.killed, false)
    const s = new WorkflowStore(store)
    const runs = s.runs('killme')
    assert.equal(runs.length, 36)
    assert.deepEqual(runs.filter((r) => r.status !== 'succeeded'), [])
    const successes = s.history('killme').filter((h) => h.outcome === 'succeeded')
    const keys = successes.map((h) => `${h.task}/${h.partition}`)
    assert.equal(new Set(keys).size, 36, 'each run succeeded once in the history')
    assert.equal(keys.length, 36, 'no run succeeded twice')
    // every run's downstream started only after its upstream had finished an attempt
    const lines = readFileSync(effects, 'utf8').trim().split('\n')
    for (let p = 0; p < 12; p++) {
      const part = `p${String(p).padStart(2, '0')}`
      const firstStart = (t: string) => lines.findIndex((l) => l.startsWith(`start ${t} ${part} `))
      const lastDone = (t: string) => lines.findLastIndex((l) => l.startsWith(`done ${t} ${part} `))
      assert.ok(lastDone('extract') >= 0 && lastDone('extract') < lines.findLastIndex((l) => l.startsWith(`start transform ${part} `)))
      assert.ok(firstStart('load') > firstStart('transform'))
    }
    const interrupted = s.history('killme').filter((h) => h.outcome === 'interrupted').length
    s.close()
    // every kill cut an attempt off, and the next scheduler recovered it
    assert.ok(kills > 0 && interrupted >= kills, `kills ${kills}, interrupted attempts recovered ${interrupted}`)
    process.stdout.write(`# kills ${kills}, interrupted attempts recovered ${interrupted}\n`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
