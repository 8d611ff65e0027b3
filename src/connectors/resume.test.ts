import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as zlib from 'node:zlib'
import { source } from './index.ts'
import { pipeline, run, sink } from '../index.ts'
import { END, type Source, type SourceReader } from '../core/source.ts'
import { SluiceError } from '../core/errors.ts'
import { withTempDir } from './files/test-support.ts'
import { checkResume, context, readPartition } from './resume-support.ts'

// One suite for every resumable source: read part of it, take positions, open a fresh reader, seek,
// read the rest. Per partition, what was read before and after the cut equals one straight read. Sources
// that need a service run the unbounded form of it (checkResumeUnbounded) from that service's tests:
// source.postgresCdc in test/connectors/postgres/cdc-resume.test.ts.

const items = Array.from({ length: 97 }, (_, i) => ({ i, ts: i * 10 }))

test('collection: resumes after positions, with one and with several partitions', async () => {
  await checkResume(() => source.collection(items))
  await checkResume(() => source.collection(items, { partitions: 3 }))
})

test('generator: resumes at the next sequence number, records unchanged', async () => {
  await checkResume(() => source.generator({ count: 150, partitions: 2, seed: 7, make: (g) => ({ seq: g.seq, r: g.int(1000) }) }))
})

test('generator: a rate-limited generator resumes where it stopped', async () => {
  const src = source.generator({ count: 40, ratePerSecond: 1e6, make: (g) => g.seq })
  const a = src.open(context()) as SourceReader<number>
  let got: number[] = []
  while (got.length < 10) {
    const r = await a.read(0, 10 - got.length)
    if (r !== null && r !== END) got = got.concat(r.values)
  }
  const b = src.open(context()) as SourceReader<number>
  b.seek!(a.positions!())
  for (;;) {
    const r = await b.read(0, 100)
    if (r === END) break
    if (r !== null) got = got.concat(r.values)
  }
  assert.deepEqual(got, Array.from({ length: 40 }, (_, i) => i))
})

test('nexmark: resumes at the next event number', async () => {
  await checkResume(() => source.nexmark({ events: 300, partitions: 3, firstEvent: 5 }), 10)
})

test('sequence sources reject positions of another shape', () => {
  const reader = source.collection(items, { partitions: 2 }).open(context()) as SourceReader<unknown>
  assert.throws(() => reader.seek!([0]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
  assert.throws(() => reader.seek!([1, 1]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
  assert.throws(() => reader.seek!([0, 'x']), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
})

test('jsonl: resumes at a byte offset and line, per file', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.jsonl')
    const b = join(dir, 'b.jsonl')
    await writeFile(a, items.map((r) => JSON.stringify(r)).join('\n') + '\n')
    await writeFile(b, '\uFEFF' + items.slice(0, 40).map((r) => JSON.stringify({ ...r, s: 'é😀'.repeat(r.i % 5) })).join('\r\n\r\n'))
    await checkResume(() => source.jsonl([a, b], { chunkSize: 64 }))
  })
})

test('jsonl: positions of a resumed read still name the right lines', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.jsonl')
    await writeFile(a, items.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const src = source.jsonl(a)
    const first = await src.open(context())
    await first.read(0, 10)
    const positions = first.positions!()
    await first.close()
    assert.deepEqual(positions, [{ file: a, offset: Buffer.byteLength(items.slice(0, 10).map((r) => JSON.stringify(r) + '\n').join('')), line: 10 }])
    const second = await src.open(context())
    await second.seek!(positions)
    const r = await second.read(0, 1)
    await second.close()
    assert.ok(r !== null && r !== END)
    assert.deepEqual(r.pos, [`${a}:11`])
  })
})

test('csv: resumes after the header, which is still known after seek', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.csv')
    const rows = items.map((r) => `${r.i},"line\nbreak ${r.i}, ""q""",${r.ts}`)
    await writeFile(a, 'i,text,ts\r\n' + rows.join('\r\n') + '\r\n')
    await checkResume(() => source.csv(a, { types: { i: 'number', ts: 'number' }, chunkSize: 50, multiline: true }))
    // Resuming at the very start (nothing read yet) skips the header as a fresh read does.
    const src = source.csv(a, { types: { i: 'number' }, multiline: true })
    const r = await src.open(context())
    await r.seek!([{ file: a, offset: 0, line: 0 }])
    const got = await readPartition(r, 0, 5, 1)
    await r.close()
    assert.deepEqual(got[0], { i: 0, text: 'line\nbreak 0, "q"', ts: '0' })
  })
})

test('gzip JSONL (two members) and zstd CSV: resume at a decompressed offset', async () => {
  await withTempDir(async (dir) => {
    const lines = items.map((r) => JSON.stringify({ ...r, s: 'ü'.repeat(r.i % 7) }) + '\n')
    const gz = join(dir, 'a.jsonl.gz')
    await writeFile(gz, Buffer.concat([zlib.gzipSync(lines.slice(0, 50).join('')), zlib.gzipSync(lines.slice(50).join(''))]))
    await checkResume(() => source.jsonl(gz, { chunkSize: 64 }))
    if (typeof zlib.zstdCompressSync !== 'function') return // this Node.js has no zstd in zlib
    const zst = join(dir, 'b.csv.zst')
    await writeFile(zst, zlib.zstdCompressSync(Buffer.from('i,ts\n' + items.map((r) => `${r.i},${r.ts}`).join('\n') + '\n')))
    await checkResume(() => source.csv(zst, { types: { i: 'number', ts: 'number' }, chunkSize: 50 }))
  })
})

test('parquet (row groups as partitions) and avro (deflate blocks): resume at the next row', async () => {
  await withTempDir(async (dir) => {
    const p = pipeline('resume-files')
    const rows = p.from(source.collection(items))
    rows.to(sink.parquet(join(dir, 'a.parquet'), { schema: { i: 'int64', ts: 'int64' }, rowGroupSize: 20 }))
    rows.to(sink.avro(join(dir, 'b.avro'), { schema: { type: 'record', name: 'Item', fields: [{ name: 'i', type: 'long' }, { name: 'ts', type: 'long' }] }, codec: 'deflate' }))
    await run(p)
    await checkResume(() => source.parquet(join(dir, 'a.parquet')))
    // Avro records are instances of a class made per reader: compared as plain objects.
    await checkResume(() => plainValues(source.avro<object>(join(dir, 'b.avro'))))
  })
})

function plainValues(src: Source<object>): Source<object> {
  return {
    ...src,
    async open(ctx) {
      const r = await src.open(ctx)
      return {
        partitions: r.partitions,
        read: async (p, max) => {
          const got = await r.read(p, max)
          return got === null || got === END ? got : { ...got, values: got.values.map((v) => ({ ...v })) }
        },
        positions: () => r.positions!(),
        seek: (positions) => r.seek!(positions),
        close: () => r.close(),
      }
    },
  }
}

test('files: a file shorter than its checkpoint position is an error; a new file starts at its beginning', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.jsonl')
    const b = join(dir, 'b.jsonl')
    await writeFile(a, '{"a":1}\n')
    await writeFile(b, '{"b":1}\n')
    const r = await source.jsonl([a, b]).open(context())
    await assert.rejects(async () => r.seek!([{ file: a, offset: 100, line: 3 }]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
    r.seek!([{ file: a, offset: 8, line: 1 }, { file: join(dir, 'gone.jsonl'), offset: 5, line: 1 }])
    assert.deepEqual(await readPartition(r, 0, 10), [])
    assert.deepEqual(await readPartition(r, 1, 10), [{ b: 1 }])
    await r.close()
  })
})
