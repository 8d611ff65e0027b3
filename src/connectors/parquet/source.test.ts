import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline, run, sink, source, SluiceError } from '../../index.ts'
import { END, type SourceContext, type SourceReader } from '../../core/source.ts'
import { withTempDir } from '../files/test-support.ts'

const ctx = (): SourceContext => ({ pipeline: 't', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined })

interface Row {
  id: number
  name: string
  amount: number
  ts: Date
}

/** Writes `n` rows from `from` with sink.parquet, `group` rows per row group. */
async function write(path: string, from: number, n: number, group: number): Promise<Row[]> {
  const rows = Array.from({ length: n }, (_, i) => ({ id: from + i, name: `n${from + i}`, amount: (from + i) / 4, ts: new Date(1_700_000_000_000 + (from + i) * 1000) }))
  const p = pipeline('write-parquet')
  p.from(source.collection(rows)).to(sink.parquet(path, { schema: { id: 'int64', name: 'string', amount: 'double', ts: 'timestamp' }, rowGroupSize: group }))
  await run(p)
  return rows
}

async function readAll<T>(reader: SourceReader<T>, max: number, parts?: number[]): Promise<T[]> {
  const out: T[] = []
  for (const p of parts ?? Array.from({ length: reader.partitions }, (_, i) => i)) {
    for (;;) {
      const r = await reader.read(p, max)
      if (r === END) break
      assert.ok(r !== null)
      out.push(...r.values)
    }
  }
  return out
}

test('source.parquet reads every row of a glob of files, one split per row group, with column projection', async () => {
  await withTempDir(async (dir) => {
    const a = await write(join(dir, 'a.parquet'), 0, 2500, 1000)
    const b = await write(join(dir, 'b.parquet'), 2500, 700, 1000)
    const reader = await source.parquet<Row>(join(dir, '*.parquet')).open(ctx())
    assert.equal(reader.partitions, 4, 'three row groups in a, one in b')
    assert.deepEqual(await readAll(reader, 333), [...a, ...b])
    await reader.close()
    const projected = await source.parquet<{ id: number }>(join(dir, 'b.parquet'), { columns: ['id'] }).open(ctx())
    assert.deepEqual(await readAll(projected, 1000), b.map((r) => ({ id: r.id })))
    const big = await source.parquet<{ id: bigint }>(join(dir, 'b.parquet'), { columns: ['id'], int64: 'bigint' }).open(ctx())
    assert.equal(typeof (await readAll(big, 10))[0].id, 'bigint')
  })
})

test('a restore goes on at the next row of each row group', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'rows.parquet')
    const rows = await write(path, 0, 3000, 1000)
    const first = await source.parquet<Row>(path).open(ctx())
    const got: Row[] = []
    // Part of group 0, all of group 1, nothing of group 2.
    for (let i = 0; i < 3; i++) got.push(...((await first.read(0, 111)) as { values: Row[] }).values)
    got.push(...(await readAll(first, 400, [1])))
    const at = JSON.parse(JSON.stringify(first.positions!())) as unknown[]
    assert.deepEqual(at[0], { file: path, rowGroup: 0, row: 333 })
    await first.close()
    const second = await source.parquet<Row>(path).open(ctx())
    await second.seek!(at)
    got.push(...(await readAll(second, 250)))
    assert.deepEqual(got.map((r) => r.id).sort((x, y) => x - y), rows.map((r) => r.id))
    assert.equal(got.length, 3000)
  })
})

test('in a pipeline with checkpoints, and errors that name the file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'rows.parquet')
    await write(path, 0, 2000, 500)
    const out = sink.collect<number>()
    const p = pipeline('parquet-sum')
    p.from(source.parquet<Row>(path, { columns: ['id', 'ts'], eventTime: (r) => r.ts.getTime() })).map((r) => r.id).to(out)
    await run(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 10 } })
    assert.deepEqual([...out.values].sort((x, y) => x - y), Array.from({ length: 2000 }, (_, i) => i))
    await writeFile(join(dir, 'bad.parquet'), 'not parquet at all')
    await assert.rejects(async () => source.parquet(join(dir, 'bad.parquet')).open(ctx()), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_UNREADABLE' && e.message.includes('bad.parquet'))
    await assert.rejects(async () => source.parquet(path, { columns: ['nope'] }).open(ctx()), /no column 'nope'/)
  })
})
