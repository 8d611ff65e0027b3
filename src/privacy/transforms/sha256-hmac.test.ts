import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { HmacSha256 } from './sha256-hmac.ts'

const rfc4231 = (key: Uint8Array, data: string | Uint8Array) => new HmacSha256(key).hex(data)
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('the JavaScript HMAC-SHA-256 gives the RFC 4231 known answers', () => {
  assert.equal(rfc4231(new Uint8Array(20).fill(0x0b), 'Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7')
  assert.equal(rfc4231(Buffer.from('Jefe'), 'what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  assert.equal(rfc4231(new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd)), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe')
  assert.equal(rfc4231(range(1, 25), new Uint8Array(50).fill(0xcd)), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b')
  assert.equal(rfc4231(new Uint8Array(131).fill(0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
  const longData = 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'
  assert.equal(rfc4231(new Uint8Array(131).fill(0xaa), longData), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2')
})

test('the base64url, hex and byte outputs are the same MAC', () => {
  const h = new HmacSha256(Buffer.from('Jefe'))
  const bytes = Buffer.from(h.digest('what do ya want for nothing?'))
  assert.equal(bytes.toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  assert.equal(h.base64url('what do ya want for nothing?'), 'W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM')
  assert.equal(h.base64url('what do ya want for nothing?'), bytes.toString('base64url'))
})

test('it equals node:crypto for any key and any text, across block boundaries and multi-byte characters', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 300 }), (key, text) => {
      const h = new HmacSha256(key)
      const ref = createHmac('sha256', key).update(text, 'utf8').digest()
      assert.equal(h.hex(text), ref.toString('hex'))
      assert.equal(h.base64url(text), ref.toString('base64url'))
      assert.deepEqual(Buffer.from(h.digest(text)), ref)
    }),
    { numRuns: 500 },
  )
})

test('it equals node:crypto at every length around the block boundaries, for ASCII, non-ASCII text and bytes', () => {
  const h = new HmacSha256(Buffer.from('k'))
  for (let len = 0; len <= 200; len++) {
    const ascii = 'x'.repeat(len)
    assert.equal(h.base64url(ascii), createHmac('sha256', 'k').update(ascii).digest('base64url'), `ASCII, length ${len}`)
    // A non-ASCII character at every position: the fast ASCII path must hand over to UTF-8 wherever it meets one.
    const mixed = `${'y'.repeat(len)}é${'z'.repeat(len % 7)}`
    assert.equal(h.hex(mixed), createHmac('sha256', 'k').update(mixed).digest('hex'), `non-ASCII at ${len}`)
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff)
    assert.equal(h.hex(bytes), createHmac('sha256', 'k').update(bytes).digest('hex'), `bytes, length ${len}`)
  }
  for (const len of [1000, 5000]) {
    const text = 'é'.repeat(len)
    assert.equal(h.hex(text), createHmac('sha256', 'k').update(text).digest('hex'), `length ${len}`)
  }
  // After a long value the scratch words are larger; a short one must not pick up its leftovers.
  assert.equal(h.hex('ab'), createHmac('sha256', 'k').update('ab').digest('hex'))
})
