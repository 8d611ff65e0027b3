import { test } from 'node:test'
import assert from 'node:assert/strict'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import avsc, { type Schema } from 'avsc'
import { pipeline, run, sink, source, SluiceError } from '../../index.ts'
import { END, type SourceContext, type SourceReader } from '../../core/source.ts'
import { committedParts } from '../files/part-files.ts'
import { withTempDir } from '../files/test-support.ts'

const ctx = (): SourceContext => ({ pipeline: 't', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined })

const Order: Schema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'customer', type: 'string' }, { name: 'amount', type: 'double' }] }
interface Order {
  id: number
  customer: string
  amount: number
}
const orders = (from: number, n: number): Order[] => Array.from({ length: n }, (_, i) => ({ id: from + i, customer: `c${(from + i) % 17}`, amount: (from + i) * 1.5 }))
const plain = (rows: unknown[]) => rows.map((r) => ({ ...(r as object) }))

async function readAll<T>(reader: SourceReader<T>, max: number): Promise<T[]> {
  const out: T[] = []
  for (let p = 0; p < reader.partitions; p++) {
    for (;;) {
      const r = await reader.read(p, max)
      if (r === END) break
      assert.ok(r !== null)
      out.push(...r.values)
    }
  }
  return out
}

test('sink.avro writes an object container file that avsc reads back, and source.avro reads it', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'orders.avro')
    const rows = orders(0, 5000)
    const p = pipeline('write-avro')
    p.from(source.collection(rows)).to(sink.avro(path, { schema: Order }))
    await run(p)
    const header = avsc.extractFileHeader(path) as { meta: Record<string, Buffer> }
    assert.equal(header.meta['avro.codec'].toString(), 'deflate')
    const back: unknown[] = []
    await new Promise<void>((resolve, reject) => avsc.createFileDecoder(path).on('data', (r: unknown) => back.push(r)).on('end', resolve).on('error', reject))
    assert.deepEqual(plain(back), rows)
    const reader = await source.avro<Order>(path).open(ctx())
    assert.deepEqual(plain(await readAll(reader, 700)), rows)
    await reader.close()
  })
})

test('with checkpoints: part files by two-phase commit; a record that does not fit goes to the error path naming the field', async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, 'out')
    const rows: unknown[] = [...orders(0, 300), { id: 'x', customer: 'secret-value', amount: 1 }, ...orders(300, 300)]
    const p = pipeline('avro-parts', { onError: 'error-output' })
    p.from(source.collection(rows, { partitions: 2 })).to(sink.avro(out, { schema: Order, codec: 'null' }))
    const errors = sink.collect<{ error: string }>()
    p.errors().map((e) => ({ error: String(e.error) })).to(errors)
    await run(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 5 } })
    const files = await committedParts(out, 'avro')
    assert.ok(files.length >= 1)
    const reader = await source.avro<Order>(files).open(ctx())
    const got = plain(await readAll(reader, 1000)) as Order[]
    assert.deepEqual(got.map((o) => o.id).sort((a, b) => a - b), orders(0, 600).map((o) => o.id))
    assert.equal(errors.values.length, 1)
    assert.match(errors.values[0].error, /field 'id'/)
    assert.doesNotMatch(errors.values[0].error, /secret-value/)
  })
})

test('source.avro: a restore in the middle goes on at the next record; a reader schema resolves older files; damaged files are named', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.avro')
    const b = join(dir, 'b.avro')
    for (const [path, from] of [[a, 0], [b, 1000]] as const) {
      const p = pipeline('write')
      p.from(source.collection(orders(from, 1000))).to(sink.avro(path, { schema: Order }))
      await run(p)
    }
    const first = await source.avro<Order>(join(dir, '*.avro')).open(ctx())
    assert.equal(first.partitions, 2)
    const got: Order[] = []
    got.push(...((await first.read(0, 400)) as { values: Order[] }).values)
    got.push(...((await first.read(1, 10)) as { values: Order[] }).values)
    const at = JSON.parse(JSON.stringify(first.positions!())) as unknown[]
    assert.deepEqual(
      (at as { file: string; record: number; inBlock: number }[]).map((x) => [x.file, x.record, x.inBlock]),
      [
        [a, 400, 400],
        [b, 10, 10],
      ],
    )
    await first.close()
    const second = await source.avro<Order>(join(dir, '*.avro')).open(ctx())
    await second.seek!(at)
    got.push(...(await readAll(second, 300)))
    assert.deepEqual(got.map((o) => o.id).sort((x, y) => x - y), orders(0, 2000).map((o) => o.id))

    const V2: Schema = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'amount', type: 'double' }, { name: 'currency', type: 'string', default: 'EUR' }] }
    const evolved = await source.avro<{ id: number; currency: string }>(a, { readerSchema: V2 }).open(ctx())
    const first3 = ((await evolved.read(0, 3)) as { values: unknown[] }).values
    assert.deepEqual(plain(first3), [{ id: 0, amount: 0, currency: 'EUR' }, { id: 1, amount: 1.5, currency: 'EUR' }, { id: 2, amount: 3, currency: 'EUR' }])
    await evolved.close()

    await writeFile(join(dir, 'bad.avro'), 'not avro')
    const bad = pipeline('bad')
    bad.from(source.avro(join(dir, 'bad.avro'))).to(sink.blackhole())
    await assert.rejects(run(bad), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_UNREADABLE' && e.message.includes('bad.avro'))
  })
})

test('source.avro: a restore goes to the block it stood in (deflate, several blocks); a position without a block skips whole blocks', async () => {
  await withTempDir(async (dir) => {
    const f = join(dir, 'big.avro')
    const p = pipeline('write-big')
    p.from(source.collection(orders(0, 20_000))).to(sink.avro(f, { schema: Order, codec: 'deflate' }))
    await run(p)
    const first = await source.avro<Order>(f).open(ctx())
    let read = 0
    while (read < 15_003) read += ((await first.read(0, 3)) as { values: Order[] }).values.length
    const [at] = JSON.parse(JSON.stringify(first.positions!())) as { file: string; record: number; block: number; inBlock: number }[]
    await first.close()
    assert.equal(at.record, 15_003)
    assert.ok(at.block > 100 && at.inBlock < at.record, 'the position names a block after the first')
    const whole = await source.avro<Order>(f).open(ctx())
    assert.equal((await readAll(whole, 1000)).length, 20_000)
    const size = (await stat(f)).size
    assert.ok(whole.bytesRead!() > size * 0.9 && whole.bytesRead!() < size, `bytesRead ${whole.bytesRead!()} of a file of ${size} bytes (its blocks, not its header)`)
    await whole.close()
    for (const position of [at, { file: f, record: 15_003 }]) {
      const again = await source.avro<Order>(f).open(ctx())
      await again.seek!([position])
      const rest = await readAll(again, 1000)
      await again.close()
      assert.deepEqual(rest.map((o) => o.id), orders(15_003, 4_997).map((o) => o.id))
    }
  })
})
