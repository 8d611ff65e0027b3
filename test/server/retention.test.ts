import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { resolvePolicy } from '../../src/retention/policy.ts'
import type { RetentionClock, RetentionPassReport } from '../../src/retention/periodic.ts'
import { serveControlPlane } from '../../src/server/serve.ts'

const DAY = 86_400_000
const T0 = Date.parse('2026-06-01T00:00:00Z')

test('the control plane applies its retention policy at start, reports each pass, and close ends the loop', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-server-retention-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const sp = join(root, 'savepoints')
  mkdirSync(join(sp, 'old'), { recursive: true })
  utimesSync(join(sp, 'old'), (T0 - 40 * DAY) / 1000, (T0 - 40 * DAY) / 1000)
  let sleeping: () => void = () => {}
  const firstSleep = new Promise<void>((r) => (sleeping = r))
  // Time stands still: the loop waits for its next pass until the server closes.
  const clock: RetentionClock = {
    now: () => T0,
    sleep: (_ms, signal) =>
      new Promise((done) => {
        signal?.addEventListener('abort', () => done(), { once: true })
        sleeping()
      }),
  }
  const passes: RetentionPassReport[] = []
  const server = await serveControlPlane({ jobs: new Map(), stateDir: join(root, 'server'), retention: { policy: resolvePolicy({ savepoints: [{ dir: sp, maxAge: '30d' }] }), logFile: join(root, 'retention.log'), everyMs: DAY, clock, onPass: (r) => passes.push(r) } })
  await firstSleep
  assert.deepEqual(passes.map((p) => [p.pass, p.at, p.actions.map((a) => a.path)]), [[1, T0, [join(sp, 'old')]]])
  assert.equal(existsSync(join(sp, 'old')), false)
  assert.equal(JSON.parse(readFileSync(join(root, 'retention.log'), 'utf8')).path, join(sp, 'old'))
  await server.close()
  assert.equal(passes.length, 1, 'no pass after close')
})
