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

test('sluice serve --registry serves the folder under /registry behind its tokens, with no pipeline, until Ctrl-C', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-registry-cli-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  let checked: Promise<void> | undefined
  const r = await sluiceLive(['serve', '--registry', join(dir, 'registry'), '--state-dir', join(dir, 'state'), '--port', '0'], (out, signal) => {
    const m = /schema registry on (\S+)/.exec(out.stderr)
    const token = /^ {2}(slc_\S+)$/m.exec(out.stderr)
    if (m === null || token === null || checked !== undefined) return
    checked = (async () => {
      const schema = JSON.stringify({ type: 'record', name: 'B', fields: [{ name: 'a', type: 'int' }] })
      const basic = `Basic ${Buffer.from(`any:${token[1]}`).toString('base64')}`
      const res = await fetch(`${m[1]}/subjects/b-value/versions`, { method: 'POST', headers: { authorization: basic }, body: JSON.stringify({ schema }) })
      assert.deepEqual(await res.json(), { id: 1 })
      assert.equal((await fetch(`${m[1]}/subjects`)).status, 401)
      assert.deepEqual(await (await fetch(`${m[1]}/subjects`, { headers: { authorization: `Bearer ${token[1]}` } })).json(), ['b-value'])
    })().finally(() => signal('SIGINT'))
  })
  await checked
  assert.equal(r.code, 0, r.stderr)
})
