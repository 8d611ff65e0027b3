import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { bin, root } from '../cli/sluice.ts'

const fixture = new URL('./fixtures/growing-state.ts', import.meta.url).pathname

test('keyed state that grows without bound under a 128 MB heap ends the job with SLUICE_STATE_MEMORY, not an out-of-memory crash', () => {
  // The default budget (60% of the old generation) fails the job long before V8 would abort the process.
  const r = spawnSync(process.execPath, ['--max-old-space-size=128', bin, 'run', fixture, '--no-check', '--quiet'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, SLUICE_DEBUG: '' },
  })
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(-2000)}`)
  assert.doesNotMatch(r.stderr, /heap out of memory|Allocation failed/)
  assert.equal(r.status, 3, r.stderr.slice(-2000))
  assert.match(r.stderr, /SLUICE_STATE_MEMORY/)
  assert.match(r.stderr, /memory budget of 77 MB/)
  assert.match(r.stderr, /step 'keyed-aggregate-1' holds the most/)
  assert.match(r.stderr, /--state durable/)
})

test('--state-memory sets the budget, and is refused with --state durable or when it is not a size', () => {
  const small = spawnSync(process.execPath, [bin, 'run', fixture, '--no-check', '--quiet', '--state-memory', '4MB'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  assert.equal(small.status, 3, small.stderr)
  assert.match(small.stderr, /SLUICE_STATE_MEMORY.*budget of 4\.0 MB/)
  const bad = spawnSync(process.execPath, [bin, 'run', fixture, '--no-check', '--state-memory', 'lots'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  assert.equal(bad.status, 2, bad.stderr)
  assert.match(bad.stderr, /--state-memory must be a size/)
  const durable = spawnSync(process.execPath, [bin, 'run', fixture, '--no-check', '--state', 'durable', '--state-memory', '1GB'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  assert.equal(durable.status, 2, durable.stderr)
})
