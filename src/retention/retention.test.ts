import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolvePolicy } from './policy.ts'
import { planRetention } from './plan.ts'
import { applyRetention } from './apply.ts'

const DAY = 86_400_000

function checkpoint(dir: string, id: number, refs: number[] = []): void {
  const d = join(dir, `chk-${String(id).padStart(8, '0')}`)
  mkdirSync(d, { recursive: true })
  writeFileSync(join(d, 'manifest.json'), JSON.stringify({ id, operators: [{ files: refs.map((r) => ({ checkpoint: r })) }] }))
}

test('plan lists what goes and deletes nothing; apply deletes exactly that and logs each deletion', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-'))
  const now = Date.parse('2026-06-01T00:00:00Z')
  const chk = join(root, 'state')
  for (const id of [1, 2, 3, 4, 5]) checkpoint(chk, id, id === 5 ? [2] : [])
  const sp = join(root, 'savepoints')
  for (const [name, age] of [['old', 40], ['new', 2]] as const) {
    mkdirSync(join(sp, name), { recursive: true })
    writeFileSync(join(sp, name, 'manifest.json'), '{}')
    utimesSync(join(sp, name), (now - age * DAY) / 1000, (now - age * DAY) / 1000)
  }
  mkdirSync(join(root, 'out'), { recursive: true })
  writeFileSync(join(root, 'out', '.part-0-7.tmp'), 'x')
  utimesSync(join(root, 'out', '.part-0-7.tmp'), (now - 3 * DAY) / 1000, (now - 3 * DAY) / 1000)
  writeFileSync(join(root, 'out', 'result.jsonl'), 'kept\n')
  const lineage = join(root, 'lineage.ndjson')
  writeFileSync(lineage, [JSON.stringify({ eventTime: new Date(now - 100 * DAY).toISOString(), n: 1 }), JSON.stringify({ eventTime: new Date(now - DAY).toISOString(), n: 2 })].join('\n') + '\n')

  const policy = resolvePolicy({ checkpoints: [{ dir: chk, keep: 2 }], savepoints: [{ dir: sp, maxAge: '30d' }], staging: [{ dir: join(root, 'out'), maxAge: '1d' }], logs: [{ path: lineage, maxAge: '90d' }] })
  const plan = await planRetention(policy, now)
  assert.deepEqual(plan.map((a) => [a.artifact, a.path.slice(root.length + 1), a.action]), [
    ['checkpoint', 'state/chk-00000003', 'remove'],
    ['checkpoint', 'state/chk-00000001', 'remove'],
    ['savepoint', 'savepoints/old', 'remove'],
    ['staging', 'out/.part-0-7.tmp', 'remove'],
    ['log', 'lineage.ndjson', 'trim'],
  ])
  assert.ok(existsSync(join(chk, 'chk-00000001')), 'plan deletes nothing')

  const log = join(root, 'retention.log')
  await applyRetention(plan, log, now)
  assert.deepEqual(['chk-00000001', 'chk-00000002', 'chk-00000003', 'chk-00000004', 'chk-00000005'].map((n) => existsSync(join(chk, n))), [false, true, false, true, true])
  assert.equal(existsSync(join(sp, 'old')), false)
  assert.equal(existsSync(join(sp, 'new')), true)
  assert.equal(existsSync(join(root, 'out', 'result.jsonl')), true)
  assert.deepEqual(readFileSync(lineage, 'utf8').trim().split('\n').map((l) => JSON.parse(l).n), [2])
  const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { artifact: string; path: string })
  assert.deepEqual(logged.map((l) => l.path), plan.map((a) => a.path))
  assert.deepEqual(await planRetention(policy, now), [])
})

test('a policy with a bad entry is refused with what is wrong', () => {
  assert.throws(() => resolvePolicy({ checkpoints: [{ dir: 'state', keep: 0 }] }), /keep must be a positive integer/)
  assert.throws(() => resolvePolicy({ savepoints: [{ dir: 'sp', maxAge: 'soon' }] }), /SLUICE_BAD_DURATION|duration/i)
})

test('a trim keeps a last line still being written as it is, and what was appended since the plan', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-retention-'))
  const now = Date.parse('2026-06-01T00:00:00Z')
  const path = join(root, 'audit.ndjson')
  const line = (days: number, n: number) => JSON.stringify({ time: new Date(now - days * DAY).toISOString(), n })
  writeFileSync(path, `${line(10, 1)}\n${line(0, 2)}\n`)
  const plan = await planRetention(resolvePolicy({ logs: [{ path, maxAge: '1d' }] }), now)
  assert.equal(plan.length, 1)
  // Appended after the plan: an old line (the trim's own cutoff drops it), a new one, and half of one.
  writeFileSync(path, `${line(10, 3)}\n${line(0, 4)}\n{"time":"2026-`, { flag: 'a' })
  await applyRetention(plan, join(root, 'retention.log'), now)
  assert.equal(readFileSync(path, 'utf8'), `${line(0, 2)}\n${line(0, 4)}\n{"time":"2026-`)
})
