import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { bin, root, sluice, sluiceLive } from './sluice.ts'

const DAY = 86_400_000

/** Checkpoints 1..4, an old savepoint, and a lineage log with one old line and one new one, under `dir`. */
function artifacts(dir: string): { chk: string; sp: string; lineage: string } {
  const chk = join(dir, 'cp', 'ticks')
  for (const id of [1, 2, 3, 4]) {
    const d = join(chk, `chk-0000000${id}`)
    mkdirSync(d, { recursive: true })
    writeFileSync(join(d, 'manifest.json'), JSON.stringify({ id, operators: [] }))
  }
  const sp = join(dir, 'savepoints')
  mkdirSync(join(sp, 'old'), { recursive: true })
  const old = (Date.now() - 40 * DAY) / 1000
  utimesSync(join(sp, 'old'), old, old)
  const lineage = join(dir, 'lineage.ndjson')
  writeFileSync(lineage, [100, 1].map((d, n) => JSON.stringify({ eventTime: new Date(Date.now() - d * DAY).toISOString(), n })).join('\n') + '\n')
  return { chk, sp, lineage }
}

test('sluice retention apply --every: a pass at once and then periodically, each deletion logged; SIGTERM ends it cleanly', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-retention-every-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { chk, sp, lineage } = artifacts(join(dir))
  const policy = join(dir, 'retention.json')
  writeFileSync(policy, JSON.stringify({ checkpoints: [{ dir: chk, keep: 2 }], savepoints: [{ dir: sp, maxAge: '30d' }], logs: [{ path: lineage, maxAge: '90d' }] }))
  const log = join(dir, 'retention.log')
  let sent = false
  const r = await sluiceLive(['retention', 'apply', '--policy', policy, '--log', log, '--every', '100ms'], ({ stdout }, signal) => {
    if (!sent && /retention pass 2 at \S+\n(nothing to delete|deleted)/.test(stdout)) {
      sent = true
      signal('SIGTERM')
    }
  })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /retention pass 1 at \S+\ndeleted checkpoint .*chk-00000002[\s\S]*4 deletions/)
  assert.match(r.stdout, /retention pass 2 at \S+\nnothing to delete/)
  assert.match(r.stderr, /stopped after \d+ retention passes/)
  assert.deepEqual([1, 2, 3, 4].map((id) => existsSync(join(chk, `chk-0000000${id}`))), [false, false, true, true])
  assert.equal(existsSync(join(sp, 'old')), false)
  assert.deepEqual(readFileSync(lineage, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1])
  assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 4, 'each deletion logged once')

  const bad = sluice(['retention', 'plan', '--policy', policy, '--every', '1h'])
  assert.equal(bad.code, 2, bad.stderr)
  assert.match(bad.stderr, /--every goes with apply/)
})

test('sluice serve --retention: refuses a policy below what a served pipeline keeps; applies a safe one at start', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-serve-retention-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { chk, sp, lineage } = artifacts(dir)
  const pipeline = join(root, 'test/server/fixtures/ticks.ts')
  const common = [pipeline, '--port', '0', '--no-check', '--state-dir', join(dir, 'server'), '--checkpoint-dir', join(dir, 'cp'), '--retention-log', join(dir, 'retention.log')]

  const unsafe = join(dir, 'unsafe.yaml')
  writeFileSync(unsafe, `checkpoints: [{ dir: ${JSON.stringify(chk)}, keep: 1 }]\n`)
  const refused = sluice(['serve', ...common, '--retention', unsafe])
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /keeps 1 checkpoints of .* where the running job 'ticks' keeps 3/)
  assert.match(refused.stderr, /at least 3/)
  assert.equal(existsSync(join(chk, 'chk-00000001')), true, 'nothing deleted, no pipeline started')

  const safe = join(dir, 'safe.yaml')
  writeFileSync(safe, [`checkpoints: [{ dir: ${JSON.stringify(chk)}, keep: 3 }]`, `savepoints: [{ dir: ${JSON.stringify(sp)}, maxAge: 30d }]`, `topics: [{ dir: ${JSON.stringify(join(dir, 'server', 'log'))}, maxAge: 1d }]`, `logs: [{ path: ${JSON.stringify(lineage)}, maxAge: 90d }, { path: ${JSON.stringify(join(dir, 'live.ndjson'))}, maxAge: 1d }]`].join('\n') + '\n')
  // The served pipeline appends its lineage to live.ndjson: retention never rewrites it under the job.
  writeFileSync(join(dir, 'live.ndjson'), JSON.stringify({ eventTime: new Date(Date.now() - 10 * DAY).toISOString(), n: 'old' }) + '\n')
  const child = spawn(process.execPath, [bin, 'serve', ...common, '--retention', safe, '--retention-every', '1h'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_LINEAGE: join(dir, 'live.ndjson') } })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')))
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (/retention pass 1: \d+ deletions/.test(stderr) && /control plane on/.test(stderr)) resolve()
    })
    void exited.then(() => reject(new Error(`sluice serve exited: ${stderr}`)))
  })
  child.kill('SIGTERM')
  assert.equal(await exited, 0, stderr)
  assert.equal(existsSync(join(chk, 'chk-00000001')), false, 'beyond the newest 3 of the policy')
  assert.equal(existsSync(join(sp, 'old')), false)
  assert.deepEqual(readFileSync(lineage, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [1])
  const logged = readFileSync(join(dir, 'retention.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { artifact: string })
  assert.ok(logged.some((l) => l.artifact === 'checkpoint') && logged.some((l) => l.artifact === 'savepoint') && logged.some((l) => l.artifact === 'log'))
  assert.ok(logged.every((l) => l.artifact !== 'topic'), "the server's own audit log (held open) is left to it")
  assert.match(stderr, /live\.ndjson' is written by the running pipeline 'ticks': it is not trimmed/)
  // The job's lineage transport keeps its file itself: the old line was closed into a segment, which it dropped
  // whole and logged; the file it writes was never rewritten.
  const live = readFileSync(join(dir, 'live.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { n?: string; eventType?: string })
  assert.ok(live.length > 0 && live.every((l) => l.n === undefined && l.eventType !== undefined), 'the running job\'s lineage events are all there')
  assert.equal(existsSync(join(dir, 'live.ndjson.1')), false)
  assert.ok(readFileSync(join(dir, 'retention.log'), 'utf8').split('\n').some((l) => l.includes('live.ndjson.1') && l.includes('dropped by its writer')), 'the dropped segment is logged')
})
