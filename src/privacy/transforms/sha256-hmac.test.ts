import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { HmacSha256, base64url32, hex32 } from './sha256-hmac.ts'

test('the JavaScript HMAC-SHA-256 gives the RFC 4231 known answers', () => {
  assert.equal(hex32(new HmacSha256(new Uint8Array(20).fill(0x0b)).digest('Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7')
  assert.equal(hex32(new HmacSha256(Buffer.from('Jefe')).digest('what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  assert.equal(hex32(new HmacSha256(new Uint8Array(131).fill(0xaa)).digest('Test Using Larger Than Block-Size Key - Hash Key First')), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
  const longData = 'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'
  assert.equal(hex32(new HmacSha256(new Uint8Array(131).fill(0xaa)).digest(longData)), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2')
})

test('it equals node:crypto for any key and any text, across block boundaries and multi-byte characters', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 300 }), (key, text) => {
      const mac = new HmacSha256(key).digest(text)
      const ref = createHmac('sha256', key).update(text, 'utf8').digest()
      assert.equal(hex32(mac), ref.toString('hex'))
      assert.equal(base64url32(mac), ref.toString('base64url'))
    }),
    { numRuns: 500 },
  )
  const h = new HmacSha256(Buffer.from('k'))
  for (const len of [0, 54, 55, 56, 63, 64, 65, 119, 120, 1000]) {
    const text = 'x'.repeat(len)
    assert.equal(hex32(h.digest(text)), createHmac('sha256', 'k').update(text).digest('hex'), `length ${len}`)
  }
})
