import { test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32 as zlibCrc32 } from 'node:zlib'
import { randomBytes } from 'node:crypto'
import { crc32 } from './crc.ts'

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
  assert.equal(crc32(Buffer.alloc(0)), 0)
})

test('the table path agrees with zlib for every length and alignment', () => {
  const buf = randomBytes(2048)
  for (let start = 0; start < 9; start++) {
    for (let len = 0; len < 1100; len += start + 1) {
      assert.equal(crc32(buf, start, start + len), zlibCrc32(buf.subarray(start, start + len)) >>> 0, `start ${start} length ${len}`)
    }
  }
})
