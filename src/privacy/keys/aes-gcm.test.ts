import { test } from 'node:test'
import assert from 'node:assert/strict'
import { open, seal } from './aes-gcm.ts'

test('AES-256-GCM (node:crypto, as the transforms use it) gives the GCM specification known answer (test case 16) and refuses a changed byte', () => {
  const key = Buffer.from('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', 'hex')
  const plain = Buffer.from('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39', 'hex')
  const aad = Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex')
  const iv = Buffer.from('cafebabefacedbaddecaf888', 'hex')
  const sealed = seal(key, plain, aad, iv)
  assert.equal(sealed.subarray(12, 28).toString('hex'), '76fc6ece0f4e1768cddf8853bb2d551b')
  assert.equal(sealed.subarray(28).toString('hex'), '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662')
  assert.deepEqual(open(key, sealed, aad), plain)
  const flipped = Buffer.from(sealed)
  flipped[40] ^= 1
  assert.throws(() => open(key, flipped, aad))
  assert.throws(() => open(key, sealed, Buffer.from('other')))
})

test('every seal draws its own nonce, across refills of the nonce batch, and each key opens only its own values', () => {
  const a = Buffer.alloc(32, 1)
  const b = Buffer.alloc(32, 2)
  const ivs = new Set<string>()
  for (let i = 0; i < 3000; i++) {
    const key = i % 2 === 0 ? a : b
    const plain = Buffer.from(`value ${i}`)
    const sealed = seal(key, plain, 'aad')
    ivs.add(sealed.subarray(0, 12).toString('hex'))
    assert.deepEqual(open(key, sealed, 'aad'), plain)
    assert.throws(() => open(key === a ? b : a, sealed, 'aad'))
  }
  assert.equal(ivs.size, 3000)
})
