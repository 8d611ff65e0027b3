import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

test('sluice workflow: graph, run with a failure, status, history, retry after the fix, cancel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-wf-cli-'))
  const wf = (sub: string, ...args: string[]) =>
    spawnSync(process.execPath, ['bin/sluice.js', 'workflow', sub, 'test/workflow/fixtures/flaky.ts', '--store', join(dir, 'runs.db'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, FLAKY_DIR: dir },
      timeout: 300_000,
    })
  try {
    const g = wf('graph')
    assert.equal(g.status, 0, g.stderr)
    assert.match(g.stdout, /c \(function\) <- b/)

    writeFileSync(join(dir, 'broken'), '')
    const r = wf('run')
    assert.equal(r.status, 3, 'a failed run exits with the user-error code')
    assert.match(r.stdout, /3 succeeded, 3 failed, 3 upstream_failed/)
    assert.match(r.stderr, /b eu attempt 1 failed: b is broken/)

    const s = wf('status')
    assert.match(s.stdout, /^eu +# X -/m)

    rmSync(join(dir, 'broken'))
    const again = wf('retry', '--from', 'eu')
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stderr, /queued 2 runs again/)

    const h = JSON.parse(wf('history', '--task', 'b', '--json').stdout) as { partition: string; outcome: string }[]
    assert.deepEqual(h.map((x) => `${x.partition} ${x.outcome}`).sort(), ['apac failed', 'eu failed', 'eu succeeded', 'us failed'])

    const c = wf('cancel', '--from', 'us')
    assert.match(c.stdout, /cancelled 0 runs/, 'failed runs are not queued, so there is nothing to cancel')
    const done = readFileSync(join(dir, 'done'), 'utf8').trim().split('\n').sort()
    assert.deepEqual(done, ['a apac', 'a eu', 'a us', 'b eu', 'c eu'], 'a ran once per partition, never again')

    const rules = wf('rules')
    assert.equal(rules.status, 0, rules.stderr)
    assert.match(rules.stdout, /alert: "SluiceWorkflowTaskFailed"/)

    const bad = wf('nope')
    assert.equal(bad.status, 2)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
