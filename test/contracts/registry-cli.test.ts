import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sluiceLive } from '../cli/sluice.ts'

test('sluice registry serves the API from a folder until Ctrl-C', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-registry-cli-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  let checked: Promise<void> | undefined
  const r = await sluiceLive(['registry', '--dir', dir, '--port', '0'], (out, signal) => {
    const m = /listening on (\S+)/.exec(out.stdout)
    if (m === null || checked !== undefined) return
    checked = (async () => {
      const res = await fetch(`${m[1]}/subjects/s/versions`, { method: 'POST', body: JSON.stringify({ schema: '"string"' }) })
      assert.deepEqual(await res.json(), { id: 1 })
      assert.deepEqual(await (await fetch(`${m[1]}/subjects`)).json(), ['s'])
    })().finally(() => signal('SIGINT'))
  })
  await checked
  assert.equal(r.code, 0, r.stderr)
})
