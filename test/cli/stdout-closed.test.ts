import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { bin, root } from './sluice.ts'

// `sluice run p.ts | head -2`: once the reader of stdout goes away, the run ends quietly (exit 0, nothing
// on stderr but the summary), not with SLUICE_INTERNAL and a write EPIPE.

const unbounded = fileURLToPath(new URL('./fixtures/unbounded.ts', import.meta.url))

test('stdout closed by its reader (| head) ends an unbounded run quietly', async () => {
  const child = spawn(process.execPath, [bin, 'run', unbounded, '--no-check', '--quiet'], { cwd: root, env: { ...process.env, SLUICE_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  // Like head: read the first line, then close the pipe.
  child.stdout.once('data', () => child.stdout.destroy())
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  clearTimeout(guard)
  assert.equal(code, 0, stderr)
  assert.doesNotMatch(stderr, /error|EPIPE/i)
})
