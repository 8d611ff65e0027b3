import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from '../keys/local-keyring.ts'
import { mask, redact } from './mask.ts'
import { hash } from './hash.ts'
import { encrypt, decrypt, ciphertextKeyId } from './encrypt.ts'
import { SluiceError } from '../../core/errors.ts'

const keyring = () => LocalKeyring.openOrCreate(join(mkdtempSync(join(tmpdir(), 'sluice-tr-')), 'k.json'), randomBytes(32))

test('mask hides all or all but the ends, keeps the length, and passes nulls', () => {
  assert.equal(mask().apply('secret'), '******')
  assert.equal(mask({ keepLast: 4 }).apply('4111111111111234'), '************1234')
  assert.equal(mask({ keepFirst: 1, keepLast: 1 }).apply('abcdef'), 'a****f')
  assert.equal(mask({ keepLast: 4, keepSeparators: true }).apply('4111 1111 1111 1234'), '**** **** **** 1234')
  assert.equal(mask({ keepLast: 2 }).apply('ab'), '**', 'keeping everything would reveal it all: all hidden')
  assert.equal(mask({ keepLast: 2 }).apply(1234567), '*****67')
  assert.equal(mask({ char: '#' }).apply('añ😀'), '###', 'counted in code points')
  assert.equal(mask().apply(null), null)
  assert.equal(mask().apply(undefined), undefined)
  assert.throws(() => mask({ keepLast: -1 }), /keepLast/)
  assert.throws(() => mask({ char: '**' }), /one character/)
})

test('redact replaces a value, keeping nulls null', () => {
  assert.equal(redact().apply('x'), null)
  assert.equal(redact('[redacted]').apply(42), '[redacted]')
  assert.equal(redact('[redacted]').apply(null), null)
})

test('hash is deterministic under a key, differs across keys, and equals HMAC-SHA-256 of the text', async () => {
  const keys = keyring()
  const h = hash({ keys })
  const a = h.apply('ada@example.com')
  assert.equal(a, hash({ keys, cacheSize: 0 }).apply('ada@example.com'))
  assert.equal(typeof a, 'string')
  assert.equal((a as string).length, 43)
  const { createHmac } = await import('node:crypto')
  assert.equal(a, createHmac('sha256', keys.current('hash').material).update('ada@example.com').digest('base64url'))
  assert.notEqual(a, hash({ keys: keyring() }).apply('ada@example.com'))
  assert.equal(hash({ keys, encoding: 'hex' }).apply(7), createHmac('sha256', keys.current('hash').material).update('7').digest('hex'))
  const pinned = keys.current('hash').id
  keys.rotate('hash')
  assert.equal(hash({ keys, keyId: pinned }).apply('ada@example.com'), a, 'a pinned key keeps pseudonyms stable across rotation')
  assert.deepEqual(Object.keys(h.describe()).sort(), ['algorithm', 'encoding', 'keyId', 'kind'])
})

test('the hash cache never changes an output, whether it is on, full, or turned off for values that do not repeat', () => {
  const keys = keyring()
  const cached = hash({ keys, cacheSize: 8 })
  const plain = hash({ keys, cacheSize: 0 })
  // Distinct values (the cache fills without hits and turns itself off), then a few repeated ones, then distinct again.
  const values = [
    ...Array.from({ length: 200 }, (_, i) => `user${i}@example.com`),
    ...Array.from({ length: 300 }, (_, i) => `user${i % 5}@example.com`),
    ...Array.from({ length: 200 }, (_, i) => i),
  ]
  for (const v of values) assert.equal(cached.apply(v), plain.apply(v))
})

test('encrypt round-trips values of every JSON type, never repeats a ciphertext, and names its key', () => {
  const keys = keyring()
  const enc = encrypt({ keys })
  const dec = decrypt({ keys })
  for (const v of ['1985-07-01', 42, true, { street: 'Main 1' }, ['a', 1]]) {
    const c = enc.apply(v) as string
    assert.ok(c.startsWith('sl:enc:1:'))
    assert.equal(ciphertextKeyId(c), keys.current().id)
    assert.deepEqual(dec.apply(c), v)
  }
  assert.notEqual(enc.apply('x'), enc.apply('x'))
  assert.equal(dec.apply('plain text'), 'plain text')
})

test('after rotation new values use the new key and old ones still decrypt; a changed byte is refused', () => {
  const keys = keyring()
  const before = encrypt({ keys }).apply('old') as string
  keys.rotate('default')
  const after = encrypt({ keys }).apply('new') as string
  assert.notEqual(ciphertextKeyId(before), ciphertextKeyId(after))
  assert.equal(decrypt({ keys }).apply(before), 'old')
  assert.equal(decrypt({ keys }).apply(after), 'new')
  const tampered = before.slice(0, -2) + (before.endsWith('A') ? 'B' : 'A') + before.slice(-1)
  assert.throws(() => decrypt({ keys }).apply(tampered), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_DECRYPT_FAILED')
  assert.throws(() => decrypt({ keys: keyring() }).apply(after), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_KEY_MISSING')
})
