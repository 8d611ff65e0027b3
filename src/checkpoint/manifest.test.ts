import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { decodeManifest, encodeManifest, MANIFEST_FORMAT, type Manifest } from './manifest.ts'
import { CheckpointStorage } from './storage.ts'

const manifest = (id: number, offset: number): Manifest => ({
  format: MANIFEST_FORMAT, kind: 'checkpoint', id, pipeline: 'p', createdAt: '2026-01-01T00:00:00.000Z', parallelism: 1, keyGroups: 128,
  sources: [{ step: 'src', kind: 'jsonl', state: { files: [{ path: 'in.jsonl', offset }] } as never }],
  operators: [], sinks: [{ step: 'out', pending: [{ checkpointId: id, handle: { part: 'part-0' } }] }],
  vertices: [{ id: 'src', watermark: Infinity, forwarded: -Infinity, inputs: [] }], metrics: [],
})

const corrupt = (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CHECKPOINT_CORRUPT'

test('a manifest reads back as written, infinite watermarks included, and its checksum covers every field', () => {
  const m = manifest(3, 123456)
  const back = decodeManifest(encodeManifest(m), 'here')
  assert.equal(back.vertices[0].watermark, Infinity)
  assert.equal(back.vertices[0].forwarded, -Infinity)
  assert.deepEqual({ ...back, checksum: undefined }, { ...m, checksum: undefined })
  assert.match(back.checksum!, /^sha256:[0-9a-f]{64}$/)
  // Layout is not content: the same manifest re-indented still verifies.
  assert.equal(decodeManifest(JSON.stringify(JSON.parse(encodeManifest(m))), 'here').id, 3)
})

test('a flipped digit in a source position, a flipped byte in a key or value, a truncation: each is caught by the checksum', () => {
  const text = encodeManifest(manifest(3, 123456))
  const damaged = [
    text.replace('123456', '123457'),
    text.replace('"offset"', '"offzet"'),
    text.replace('"part-0"', '"part-1"'),
    text.replace('"format": 2', '"format": 1'),
    text.replace(/"checksum": "sha256:./, '"checksum": "sha256:_'),
    text.replace('"checksum"', '"checksun"'),
    text.slice(0, text.length - 20),
  ]
  for (const [i, t] of damaged.entries()) {
    assert.notEqual(t, text, `case ${i} changes the text`)
    assert.throws(() => decodeManifest(t, 'chk-3'), (e: unknown) => corrupt(e) && /'chk-3'/.test((e as Error).message), `case ${i}`)
  }
})

test('a manifest of the previous format (no checksum) is still read; an unknown format is refused as unreadable', () => {
  const { checksum: _c, ...old } = JSON.parse(encodeManifest(manifest(2, 7))) as Manifest
  const v1 = JSON.stringify({ ...old, format: 1 })
  assert.equal(decodeManifest(v1, 'old').sources.length, 1)
  assert.throws(() => decodeManifest(JSON.stringify({ ...old, format: 9 }), 'new'), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CHECKPOINT_UNREADABLE')
})

test('latest falls back past a damaged manifest and says which checkpoint it skipped and why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-manifest-'))
  try {
    const s = new CheckpointStorage(dir)
    for (const id of [1, 2, 3]) await s.write(manifest(id, id * 1000), [])
    const path = join(dir, 'chk-00000003', 'manifest.json')
    await writeFile(path, (await readFile(path, 'utf8')).replace('3000', '3001'))
    const warnings: string[] = []
    const got = await s.latest((w) => warnings.push(w))
    assert.equal(got.read?.manifest.id, 2)
    assert.deepEqual(got.skipped.map((x) => x.id), [3])
    assert.match(got.skipped[0].reason, /does not match its checksum/)
    assert.match(warnings[0], /checkpoint 3 .* skipped: .*checksum/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
