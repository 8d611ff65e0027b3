import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from './keys/local-keyring.ts'
import { encrypt, decrypt, ciphertextKeyId } from './transforms/encrypt.ts'
import { reencryptDataset } from './reencrypt.ts'

test('rotate then re-encrypt: every ciphertext moves to the current key and decrypts to the same value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reenc-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const enc = encrypt({ keys })
  const old = keys.current().id
  mkdirSync(join(dir, 'out'))
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: i, birth: enc.apply(`1980-01-${(i % 28) + 1}`), nested: { tax: enc.apply(i * 1000) } }))
  writeFileSync(join(dir, 'out', 'part-0.jsonl'), rows.slice(0, 25).map((r) => JSON.stringify(r)).join('\n') + '\n')
  writeFileSync(join(dir, 'out', 'part-1.jsonl'), rows.slice(25).map((r) => JSON.stringify(r)).join('\n') + '\n')
  const fresh = keys.rotate('default')
  const report = await reencryptDataset(join(dir, 'out'), keys)
  assert.deepEqual(report, { files: 2, records: 50, reencrypted: 100, current: 0 })
  const dec = decrypt({ keys })
  const back = ['part-0.jsonl', 'part-1.jsonl'].flatMap((f) => readFileSync(join(dir, 'out', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)))
  assert.equal(back.length, 50)
  for (const [i, r] of back.entries()) {
    assert.equal(ciphertextKeyId(r.birth), fresh)
    assert.notEqual(ciphertextKeyId(r.birth), old)
    assert.equal(dec.apply(r.birth), `1980-01-${(i % 28) + 1}`)
    assert.equal(dec.apply(r.nested.tax), i * 1000)
  }
  const again = await reencryptDataset(join(dir, 'out'), keys)
  assert.deepEqual(again, { files: 2, records: 50, reencrypted: 0, current: 100 })
})

test('a damaged line stops re-encryption of that file with its position, and leaves the file as it was', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reenc-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const file = join(dir, 'data.jsonl')
  const text = `${JSON.stringify({ a: encrypt({ keys }).apply('x') })}\n{"broken\n`
  writeFileSync(file, text)
  keys.rotate('default')
  await assert.rejects(reencryptDataset(file, keys), /data\.jsonl:2 is not valid JSON; nothing in this file was changed/)
  assert.equal(readFileSync(file, 'utf8'), text)
  assert.ok(!existsSync(`${file}.reencrypt.tmp`))
})
