import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as zlib from 'node:zlib'
import { pipeline, run, sink, source, SluiceError } from '../../index.ts'
import { END, type SourceContext } from '../../core/source.ts'
import type { FileSourceReader } from './file-source.ts'
import { drain, withTempDir } from './test-support.ts'

const hasZstd = typeof zlib.zstdCompressSync === 'function'
const records = Array.from({ length: 3000 }, (_, i) => ({ i, text: 'ü'.repeat(1 + ((i * 37) % 500)) }))
const jsonlText = records.map((r) => JSON.stringify(r)).join('\n') + '\n'

const ctx = (): SourceContext => ({ pipeline: 't', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined })

test('gzip JSONL (two members, as `cat a.gz b.gz` makes) is read streaming in small chunks, with line positions', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'events.jsonl.gz')
    const half = jsonlText.indexOf('\n', jsonlText.length >> 1) + 1
    await writeFile(path, Buffer.concat([zlib.gzipSync(jsonlText.slice(0, half)), zlib.gzipSync(jsonlText.slice(half))]))
    const { values, pos, reader } = await drain(source.jsonl(path, { chunkSize: 4096 }), 64)
    assert.deepEqual(values[0], records)
    assert.equal(pos[0][2999], `${path}:3000`)
    assert.deepEqual(reader.position(0), { file: path, offset: Buffer.byteLength(jsonlText), line: 3000 })
  })
})

test('zstd JSONL', { skip: hasZstd ? false : 'this Node.js has no zstd in zlib' }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'events.jsonl.zst')
    await writeFile(path, zlib.zstdCompressSync(jsonlText))
    const { values } = await drain(source.jsonl(path), 500)
    assert.deepEqual(values[0], records)
  })
})

test('gzip CSV with a header; compression given for a file without the extension', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'rows.data')
    await writeFile(path, zlib.gzipSync('id,name\n1,a\n2,b\n3,"c, d"\n'))
    const { values } = await drain(source.csv(path, { compression: 'gzip', types: { id: 'number' } }))
    assert.deepEqual(values[0], [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c, d' }])
  })
})

test('a restore in the middle of a compressed file goes on at the next record (CSV header skipped again)', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'rows.csv.gz')
    const lines = ['id,v', ...Array.from({ length: 5000 }, (_, i) => `${i},${'x'.repeat(i % 97)}`)]
    await writeFile(path, zlib.gzipSync(lines.join('\n') + '\n'))
    const first = (await source.csv<{ id: string }>(path, { chunkSize: 2048 }).open(ctx())) as FileSourceReader<{ id: string }>
    const got: string[] = []
    while (got.length < 2345) {
      const r = await first.read(0, 2345 - got.length)
      assert.ok(r !== null && r !== END)
      got.push(...r.values.map((v) => v.id))
    }
    const at = first.positions()
    await first.close()
    const second = (await source.csv<{ id: string }>(path, { chunkSize: 2048 }).open(ctx())) as FileSourceReader<{ id: string }>
    second.seek(JSON.parse(JSON.stringify(at)) as unknown[])
    for (;;) {
      const r = await second.read(0, 1000)
      if (r === END) break
      assert.ok(r !== null)
      got.push(...r.values.map((v) => v.id))
    }
    await second.close()
    assert.deepEqual(got, Array.from({ length: 5000 }, (_, i) => String(i)))
  })
})

test('a damaged gzip file fails the job naming the file; a compressed file cannot be followed', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.jsonl.gz')
    const gz = zlib.gzipSync(jsonlText)
    gz[gz.length >> 1] ^= 0xff
    await writeFile(path, gz)
    const p = pipeline('bad-gzip')
    p.from(source.jsonl(path)).to(sink.blackhole())
    await assert.rejects(run(p), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_UNREADABLE' && e.message.includes(path))
    assert.throws(() => source.jsonl(path, { follow: true, compression: 'gzip' }), /cannot be followed/)
    await assert.rejects(async () => source.jsonl(path, { follow: true }).open(ctx()), /cannot be followed/)
  })
})
