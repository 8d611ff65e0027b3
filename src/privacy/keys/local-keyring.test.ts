import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from './local-keyring.ts'
import { masterKeyFrom } from './master-key.ts'
import { SluiceError } from '../../core/errors.ts'

const tmp = () => join(mkdtempSync(join(tmpdir(), 'sluice-keyring-')), 'keyring.json')

test('a new keyring has a current key per purpose, and reopens with the same keys', () => {
  const master = randomBytes(32)
  const path = tmp()
  const ring = LocalKeyring.openOrCreate(path, master)
  const ids = ['default', 'hash', 'vault'].map((p) => ring.current(p).id)
  const again = LocalKeyring.open(path, master)
  for (const [i, p] of ['default', 'hash', 'vault'].entries()) {
    assert.equal(again.current(p).id, ids[i])
    assert.deepEqual(again.current(p).material, ring.current(p).material)
  }
})

test('the file holds no key material in the clear, and a wrong master key is refused by name', () => {
  const master = randomBytes(32)
  const path = tmp()
  const ring = LocalKeyring.openOrCreate(path, master)
  const text = readFileSync(path, 'utf8')
  for (const p of ['default', 'hash', 'vault']) {
    const m = ring.current(p).material
    assert.ok(!text.includes(m.toString('hex')) && !text.includes(m.toString('base64')))
  }
  assert.throws(() => LocalKeyring.open(path, randomBytes(32)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_KEY_MISSING' && /does not open/.test(e.message))
})

test('rotation makes a new key current and keeps the old one readable by id', () => {
  const master = randomBytes(32)
  const path = tmp()
  const ring = LocalKeyring.openOrCreate(path, master)
  const old = ring.current()
  const id = ring.rotate('default')
  assert.notEqual(id, old.id)
  const again = LocalKeyring.open(path, master)
  assert.equal(again.current().id, id)
  assert.deepEqual(again.byId(old.id).material, old.material)
  assert.deepEqual(again.list().filter((k) => k.purpose === 'default').map((k) => k.current), [false, true])
})

test('damage is told apart from a wrong key: a changed wrapped key fails its authentication', () => {
  const master = randomBytes(32)
  const path = tmp()
  const ring = LocalKeyring.openOrCreate(path, master)
  const id = ring.current().id
  const file = JSON.parse(readFileSync(path, 'utf8'))
  const entry = file.keys.find((k: { id: string }) => k.id === id)
  const bytes = Buffer.from(entry.wrapped, 'base64')
  bytes[bytes.length - 1] ^= 1
  entry.wrapped = bytes.toString('base64')
  writeFileSync(path, JSON.stringify(file))
  assert.throws(() => LocalKeyring.open(path, master).current(), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_KEYRING_CORRUPT')
  writeFileSync(path, '{"format":1')
  assert.throws(() => LocalKeyring.open(path, master), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_KEYRING_CORRUPT')
})

test('the master key comes from the environment as base64 or hex, and a bad one is named, never printed', () => {
  const key = randomBytes(32)
  assert.deepEqual(masterKeyFrom({ SLUICE_MASTER_KEY: key.toString('base64') }), key)
  assert.deepEqual(masterKeyFrom({ SLUICE_MASTER_KEY: key.toString('hex') }), key)
  assert.throws(() => masterKeyFrom({}), /SLUICE_MASTER_KEY is empty/)
  assert.throws(() => masterKeyFrom({ SLUICE_MASTER_KEY: 'c2VjcmV0' }), (e: unknown) => e instanceof Error && /decodes to 6/.test(e.message) && !e.message.includes('c2VjcmV0'))
})
