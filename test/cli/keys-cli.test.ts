import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openLog } from '../../src/log/log.ts'
import { LocalKeyring } from '../../src/privacy/keys/local-keyring.ts'
import { ciphertextKeyId, decryptValue, encrypt } from '../../src/privacy/transforms/encrypt.ts'
import { sluice } from './sluice.ts'

test('sluice keys: create, rotate with --reencrypt of a JSONL folder and of an embedded log; a folder of other files is refused before any key rotates', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-keys-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const master = randomBytes(32)
  const env = { SLUICE_MASTER_KEY: master.toString('base64') }
  const ring = join(dir, 'keyring.json')
  const created = sluice(['keys', 'create', ring], { env })
  assert.equal(created.code, 0, created.stderr)
  assert.match(created.stdout, /3 keys \(default, hash, vault\)/)

  const keys = LocalKeyring.open(ring, master)
  const old = keys.current().id
  const enc = encrypt({ keys })
  mkdirSync(join(dir, 'out'))
  writeFileSync(join(dir, 'out', 'part-0.jsonl'), [1, 2, 3].map((i) => JSON.stringify({ id: i, birth: enc.apply(`1980-01-0${i}`) })).join('\n') + '\n')
  const log = await openLog(join(dir, 'log'), { retentionCheckMs: 0 })
  await log.ensureTopic('people', { partitions: 1 })
  await log.append('people', 0, [1, 2].map((i) => ({ key: String(i), value: JSON.stringify({ id: i, email: enc.apply(`p${i}@example.com`) }) })))
  await log.append('people', 0, [{ value: 'not json' }])
  await log.close()
  mkdirSync(join(dir, 'parquet'))
  writeFileSync(join(dir, 'parquet', 'part-0.parquet'), 'PAR1')

  const refused = sluice(['keys', 'rotate', ring, '--reencrypt', join(dir, 'parquet')], { env })
  assert.equal(refused.code, 2, refused.stderr)
  assert.match(refused.stderr, /neither a folder of \.jsonl files nor an embedded log folder \(no key was rotated\)/)
  assert.equal(LocalKeyring.open(ring, master).current().id, old)

  const rotated = sluice(['keys', 'rotate', ring, '--reencrypt', join(dir, 'out'), '--reencrypt', join(dir, 'log')], { env })
  assert.equal(rotated.code, 0, rotated.stderr)
  const fresh = LocalKeyring.open(ring, master)
  const now = fresh.current().id
  assert.notEqual(now, old)
  assert.match(rotated.stdout, /out: 3 values re-encrypted in 1 files/)
  assert.match(rotated.stdout, /log: 2 values re-encrypted in 3 records of 1 topics/)
  const rows = readFileSync(join(dir, 'out', 'part-0.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { birth: string })
  assert.deepEqual(rows.map((r) => [ciphertextKeyId(r.birth), decryptValue(fresh, r.birth)]), [1, 2, 3].map((i) => [now, `1980-01-0${i}`]))
  const again = await openLog(join(dir, 'log'), { retentionCheckMs: 0 })
  const b = await again.topic('people').partition(0).readBatch(0, { maxRecords: 10 })
  await again.close()
  assert.deepEqual(b.offsets, [0, 1, 2], 'offsets kept')
  const values = b.values.map((v) => v.toString('utf8'))
  assert.equal(values[2], 'not json')
  assert.deepEqual(values.slice(0, 2).map((v) => JSON.parse(v) as { email: string }).map((v) => [ciphertextKeyId(v.email), decryptValue(fresh, v.email)]), [[now, 'p1@example.com'], [now, 'p2@example.com']])

  const listed = sluice(['keys', 'list', ring, '--json'], { env })
  assert.equal(listed.code, 0, listed.stderr)
  const list = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; purpose: string; current: boolean })
  assert.deepEqual(list.filter((k) => k.purpose === 'default').map((k) => [k.id, k.current]), [[old, false], [now, true]])
  assert.ok(!listed.stdout.includes(fresh.current().material.toString('base64')) && !listed.stdout.includes(master.toString('base64')))
})
