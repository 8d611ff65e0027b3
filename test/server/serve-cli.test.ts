import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = join(root, 'bin', 'sluice.js')

function sluiceSync(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' })
}

test('sluice serve: a token, the API over a running pipeline, a savepoint with stop ends it; sluice audit and sluice token', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-serve-'))
  const state = join(dir, 'server')
  const child = spawn(process.execPath, [bin, 'serve', 'test/server/fixtures/ticks.ts', '--port', '0', '--state-dir', state, '--checkpoint-dir', join(dir, 'cp'), '--no-check'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        const u = /control plane on (http:\/\/\S+)/.exec(stderr)
        const t = /^\s+(slc_\S+)$/m.exec(stderr)
        if (u && t) resolve({ url: u[1]!, token: t[1]! })
      })
      void exited.then(() => reject(new Error(`sluice serve exited: ${stderr}`)))
    })
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const call = (method: string, path: string, tok: string, body?: unknown) =>
      fetch(url + path, { method, headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })

    const jobs = (await (await call('GET', '/api/jobs', token)).json()) as { name: string; status: string }[]
    assert.deepEqual(jobs.map((j) => j.name), ['ticks'])
    type Graph = { steps: { id: string; kind: string; inputs: { from: string }[]; inPerSecond: number | null; watermark: number | null }[] }
    const g1 = (await (await call('GET', '/api/jobs/ticks/graph', token)).json()) as Graph
    assert.equal(g1.steps.length, 2)
    assert.deepEqual(g1.steps[1]!.inputs.map((i) => i.from), [g1.steps[0]!.id])
    await new Promise((r) => setTimeout(r, 600))
    const g2 = (await (await call('GET', '/api/jobs/ticks/graph', token)).json()) as Graph
    assert.ok(g2.steps.every((s) => typeof s.inPerSecond === 'number' && s.inPerSecond >= 0))
    const viewer = ((await (await call('POST', '/api/tokens', token, { role: 'viewer' })).json()) as { token: string }).token
    assert.equal((await call('POST', '/api/jobs/ticks/savepoint', viewer, { name: 'v1' })).status, 403)
    // The served pipeline's checkpoint folder is known: a checkpoint's details show its manifest.
    const cp = (await (await call('POST', '/api/jobs/ticks/checkpoint', token)).json()) as { id: number }
    const detail = (await (await call('GET', `/api/jobs/ticks/checkpoints/${cp.id}`, viewer)).json()) as { manifest: { kind: string; folder: string } | null }
    assert.equal(detail.manifest?.kind, 'checkpoint')
    assert.ok(detail.manifest.folder.startsWith(join(dir, 'cp', 'ticks')), detail.manifest.folder)
    // While the server runs it holds the audit log: sluice audit says to read it through the server, and that works.
    const locked = sluiceSync(['audit', '--state-dir', state])
    assert.notEqual(locked.status, 0)
    assert.match(locked.stderr, /SLUICE_LOG_LOCKED.*\n.*hint: .*sluice audit --url/)
    const live = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, 'audit', '--url', url, '--json'], { cwd: root, env: { ...process.env, SLUICE_TOKEN: token } })
      let out = ''
      c.stdout.on('data', (d: Buffer) => (out += d.toString()))
      c.on('exit', (code) => resolve({ code, out }))
    })
    assert.equal(live.code, 0)
    assert.deepEqual(live.out.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path), ['/api/tokens', '/api/jobs/ticks/savepoint', '/api/jobs/ticks/checkpoint'])
    // sluice settings shows the served job's checkpoint folder and interval, and changes the interval.
    const settingsCli = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [bin, 'settings', '--url', url, ...args], { cwd: root, env: { ...process.env, SLUICE_TOKEN: token } })
        let out = ''
        let err = ''
        c.stdout.on('data', (d: Buffer) => (out += d.toString()))
        c.stderr.on('data', (d: Buffer) => (err += d.toString()))
        c.on('exit', (code) => resolve({ code, out, err }))
      })
    const shown = await settingsCli([])
    assert.equal(shown.code, 0, shown.err)
    assert.match(shown.out, new RegExp(`^server +127\\.0\\.0\\.1:${new URL(url).port}$`, 'm'))
    assert.match(shown.out, /^job ticks \(running\): checkpoints every \S+ in /m)
    assert.match(shown.out, /^records +masked$/m)
    const changed = await settingsCli(['jobs.ticks.checkpointInterval=30s'])
    assert.equal(changed.code, 0, changed.err)
    assert.match(changed.out, /^jobs\.ticks\.checkpointInterval: "\S+" -> "30s"$/m)
    const refused = await settingsCli(['jobs.ticks.checkpointInterval=soon'])
    assert.notEqual(refused.code, 0)
    assert.match(refused.err, /400: invalid request body: jobs\.ticks\.checkpointInterval: a duration/)
    const sp = await call('POST', '/api/jobs/ticks/savepoint', token, { name: 'v1', stop: true })
    assert.equal(sp.status, 200, await sp.clone().text())
    assert.ok(existsSync(join(state, 'savepoints', 'v1')))
    assert.equal(await exited, 0, stderr)

    const audit = sluiceSync(['audit', '--state-dir', state, '--json'])
    assert.equal(audit.status, 0, audit.stderr)
    const entries = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; role: string; outcome: string })
    assert.deepEqual(entries.map((e) => [e.path, e.role, e.outcome]), [
      ['/api/tokens', 'admin', 'ok'],
      ['/api/jobs/ticks/savepoint', 'viewer', 'refused'],
      ['/api/jobs/ticks/checkpoint', 'admin', 'ok'],
      ['/api/settings', 'admin', 'ok'],
      ['/api/settings', 'admin', 'failed'],
      ['/api/jobs/ticks/savepoint', 'admin', 'ok'],
    ])
    const created = sluiceSync(['token', 'create', '--role', 'operator', '--state-dir', state])
    assert.equal(created.status, 0, created.stderr)
    assert.match(created.stdout, /^slc_\S+\n$/)
    const list = sluiceSync(['token', 'list', '--state-dir', state])
    assert.equal(list.stdout.trim().split('\n').length, 3)
    const viewerId = list.stdout.split('\n').find((l) => /\sviewer\s/.test(l))!.split(/\s+/)[0]!
    const revoked = sluiceSync(['token', 'revoke', viewerId, '--state-dir', state])
    assert.equal(revoked.status, 0, revoked.stderr)
    assert.equal(sluiceSync(['token', 'list', '--state-dir', state]).stdout.trim().split('\n').length, 2)
    assert.notEqual(sluiceSync(['token', 'revoke', viewerId, '--state-dir', state]).status, 0)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})

test('sluice run --serve: the control plane beside one job; an operator stops it through the API', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-run-serve-'))
  const created = spawnSync(process.execPath, [bin, 'token', 'create', '--role', 'operator'], { cwd: dir, encoding: 'utf8' })
  assert.equal(created.status, 0, created.stderr)
  const token = created.stdout.trim()
  const child = spawn(process.execPath, [bin, 'run', join(root, 'test/server/fixtures/ticks.ts'), '--serve', '0', '--no-check', '--quiet'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        const u = /control plane on (http:\/\/\S+)/.exec(stderr)
        if (u) resolve(u[1]!)
      })
      void exited.then(() => reject(new Error(`sluice run exited: ${stderr}`)))
    })
    const res = await fetch(`${url}/api/jobs/ticks/stop`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    assert.equal(await exited, 0, stderr)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
})
