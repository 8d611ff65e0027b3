import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { KeyedSnapshot } from '../core/operator.ts'
import { decodeState, encodeState } from './state-file.ts'
import { redistributeKeyed } from './redistribute.ts'

test('a keyed snapshot is split into state files by key group, and the parts restore whole', () => {
  const groups: Record<number, unknown> = {}
  for (let g = 0; g < 40; g++) groups[g] = { rows: { s: [g], k: [`key-${g}`], d: ['x'.repeat(1000)] } }
  const snap: KeyedSnapshot = { keyGroups: 128, groups, shared: { wm: 42 } }
  const parts = encodeState(snap, { partBytes: 5000 })
  assert.ok(parts.length > 5, `expected several parts, got ${parts.length}`)
  const decoded = parts.map((p) => decodeState(p)) as KeyedSnapshot[]
  for (const d of decoded) assert.deepEqual(d.shared, { wm: 42 })
  const [whole] = redistributeKeyed(decoded, 1, 128)
  assert.deepEqual(whole.groups, groups)
  // Plain (unkeyed) state is one file.
  assert.equal(encodeState({ a: 1 }).length, 1)
  assert.deepEqual(decodeState(encodeState({ a: 1, m: new Map([[1, 2]]) })[0]), { a: 1, m: new Map([[1, 2]]) })
})

test('decoding takes only the key groups asked for', () => {
  const snap: KeyedSnapshot = { keyGroups: 128, groups: { 1: 'one', 2: 'two', 3: 'three' } }
  const [part] = encodeState(snap)
  assert.deepEqual((decodeState(part, (g) => g !== 2) as KeyedSnapshot).groups, { 1: 'one', 3: 'three' })
})

test('state files of the earlier layouts (a v8 box, with or without columns) still decode', async () => {
  const { serialize } = await import('node:v8')
  const data = { rows: { s: [0, 1], k: ['a', 'b'], d: [1, 2] } }
  const old = serialize({ keyed: { keyGroups: 128, shared: { wm: 1 }, groups: { 5: serialize(data) } } })
  assert.deepEqual(decodeState(old), { keyGroups: 128, groups: { 5: data }, shared: { wm: 1 } })
  assert.deepEqual(decodeState(serialize({ plain: { a: [1, 2] } })), { a: [1, 2] })
  // A file whose header names a layout this version does not know is refused, not misread.
  const head = serialize({ codec: 'future', plain: 0 })
  const len = Buffer.alloc(4)
  len.writeUInt32LE(head.byteLength)
  assert.throws(() => decodeState(Buffer.concat([head, len, Buffer.from('SLUICEC1')])), /layout 'future'/)
})

test('a damaged key group is named', () => {
  const groups: Record<number, unknown> = { 3: { rows: { s: [0], k: ['k'], d: ['x'.repeat(100)] } } }
  const [part] = encodeState({ keyGroups: 128, groups })
  const bad = Buffer.from(part)
  bad[0] = 99
  assert.throws(() => decodeState(bad), /state of key group 3 in a state file is damaged: unknown column tag 99/)
})

test('the steps of one checkpoint share a writer; parts are views of its buffer', async () => {
  const { ByteWriter } = await import('./bytes.ts')
  const writer = new ByteWriter(Buffer.alloc(64))
  const a = encodeState({ keyGroups: 128, groups: { 1: { rows: Array.from({ length: 50 }, (_, i) => ({ i, s: `v${i}` })) } } }, { writer })
  const b = encodeState({ plain: [1, 2, 3] }, { writer })
  assert.deepEqual((decodeState(a[0]) as KeyedSnapshot).groups[1], { rows: Array.from({ length: 50 }, (_, i) => ({ i, s: `v${i}` })) })
  assert.deepEqual(decodeState(b[0]), { plain: [1, 2, 3] })
})

test('streamed through a small draining buffer, the parts are byte for byte those written in memory', async () => {
  const { ByteWriter } = await import('./bytes.ts')
  const groups: Record<number, unknown> = {}
  for (let g = 0; g < 30; g++) groups[g] = { rows: { s: [g, g + 1], k: [`k${g}`, `j${g}`], d: Array.from({ length: 40 }, (_, i) => ({ i, s: 'x'.repeat(i) })) } }
  const snap: KeyedSnapshot = { keyGroups: 128, groups, shared: { wm: 3 } }
  const inMemory = encodeState(snap, { partBytes: 4000 })
  assert.ok(inMemory.length > 2)
  const writer = new ByteWriter(Buffer.alloc(64))
  const parts: Buffer[][] = []
  let open: Buffer[] | undefined
  writer.drainTo((chunk) => open!.push(Buffer.from(chunk)))
  const returned = encodeState(snap, {
    partBytes: 4000,
    writer,
    stream: {
      open: (part) => {
        assert.equal(part, parts.length)
        open = []
      },
      close: () => {
        parts.push(open!)
        open = undefined
      },
    },
  })
  assert.deepEqual(returned, [])
  assert.equal(parts.length, inMemory.length)
  parts.forEach((chunks, i) => assert.ok(Buffer.concat(chunks).equals(Buffer.from(inMemory[i])), `part ${i}`))
  assert.deepEqual(redistributeKeyed(parts.map((c) => decodeState(Buffer.concat(c)) as KeyedSnapshot), 1, 128)[0].groups, groups)
})
