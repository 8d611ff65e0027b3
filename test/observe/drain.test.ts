// `sluice run --drain-timeout`: a graceful stop that outlasts its deadline ends the process, as Kubernetes
// would otherwise with SIGKILL, with the exit code of the signal.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sluiceLive } from '../cli/sluice.ts'

test('SIGTERM with a drain deadline: a sink that never closes is left after the deadline, exit 143', { timeout: 300_000 }, async () => {
  let sent = false
  const r = await sluiceLive(['run', 'test/cli/fixtures/stuck-sink.ts', '--no-check', '--drain-timeout', '1s'], (out, signal) => {
    if (!sent && out.stdout.includes('records')) {
      sent = true
      signal('SIGTERM')
    }
  })
  assert.equal(r.code, 143, r.stderr)
  assert.match(r.stderr, /stopping…/)
  assert.match(r.stderr, /forced exit: the drain took longer than --drain-timeout/)
})

test('--drain-timeout takes a duration', async () => {
  const r = await sluiceLive(['run', 'test/cli/fixtures/stuck-sink.ts', '--no-check', '--drain-timeout', 'soon'], () => {})
  assert.equal(r.code, 2)
  assert.match(r.stderr, /invalid duration 'soon'/)
})
