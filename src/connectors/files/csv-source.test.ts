import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline, run, sink, source, SluiceError } from '../../index.ts'
import type { ErrorRecord } from '../../index.ts'
import fc from 'fast-check'
import { drain, withTempDir } from './test-support.ts'

test('reads a header, quoted fields with delimiters, quotes and (with multiline) line breaks, CRLF and empty lines', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'q.csv')
    await writeFile(path, 'name,note,city\r\n"Smith, J","said ""hi""",Zürich\r\n\r\nAnn,"two\r\nlines",Köln\r\nBo,,\r\nlast,no,newline')
    const { values, pos, malformed } = await drain(source.csv(path, { multiline: true }))
    assert.equal(malformed.length, 0)
    assert.deepEqual(values[0], [
      { name: 'Smith, J', note: 'said "hi"', city: 'Zürich' },
      { name: 'Ann', note: 'two\r\nlines', city: 'Köln' },
      { name: 'Bo', note: '', city: '' },
      { name: 'last', note: 'no', city: 'newline' },
    ])
    assert.deepEqual(pos[0], [`${path}:2`, `${path}:4`, `${path}:6`, `${path}:7`])
  })
})

test('types convert fields; a field that does not convert makes its line malformed', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 't.csv')
    await writeFile(path, 'id,score,ok,meta,label\n1,2.5,true,"{""a"":1}",x\n2,,FALSE,,y\n3,abc,true,{},z\n4,1,maybe,[],w\n5,1e3,0,"[1,2]",v\n6,1,1,{bad,u\n')
    const types = { id: 'number', score: 'number', ok: 'boolean', meta: 'json' } as const
    const { values, malformed } = await drain(source.csv(path, { types }))
    assert.deepEqual(values[0], [
      { id: 1, score: 2.5, ok: true, meta: { a: 1 }, label: 'x' },
      { id: 2, score: null, ok: false, meta: null, label: 'y' },
      { id: 5, score: 1000, ok: false, meta: [1, 2], label: 'v' },
    ])
    assert.deepEqual(
      malformed.map((m) => [m.position, m.error]),
      [
        [`${path}:4`, "field 'score' is not a valid number"],
        [`${path}:5`, "field 'ok' is not a valid boolean"],
        [`${path}:7`, "field 'meta' is not a valid JSON value"],
      ],
    )
    assert.equal(malformed[0].raw, '3,abc,true,{},z')
  })
})

test('columns name the fields of a file without header; delimiter and parse options', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'n.tsv')
    await writeFile(path, 'a\t1\nb\t-2\nc\t3\n')
    const parse = (row: Record<string, unknown>) => {
      if ((row.n as number) < 0) throw new Error('n must not be negative')
      return { k: String(row.k), n: row.n as number }
    }
    const { values, malformed } = await drain(source.csv(path, { columns: ['k', 'n'], delimiter: '\t', types: { n: 'number' }, parse }))
    assert.deepEqual(values[0], [
      { k: 'a', n: 1 },
      { k: 'c', n: 3 },
    ])
    assert.deepEqual(
      malformed.map((m) => [m.position, m.error]),
      [[`${path}:2`, 'n must not be negative']],
    )
  })
})

test('malformed CSV lines are reported without their contents, and reading goes on', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.csv')
    await writeFile(path, 'a,b\n1,2\n1,2,secret\n"x"y,2\n3,4\nsecret"q,5\n6\n7,8\n')
    const { values, malformed } = await drain(source.csv(path))
    assert.deepEqual(values[0], [
      { a: '1', b: '2' },
      { a: '3', b: '4' },
      { a: '7', b: '8' },
    ])
    assert.deepEqual(
      malformed.map((m) => m.position),
      [`${path}:3`, `${path}:4`, `${path}:6`, `${path}:7`],
    )
    assert.equal(malformed[0].error, 'expected 2 fields, found 3')
    for (const m of malformed) assert.ok(!m.error.includes('secret') && !m.error.includes('"x"y'), m.error)
  })
})

test('every file of a glob has its own header; reading goes by the file order', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'b.csv'), 'y,x\n2,1\n')
    await writeFile(join(dir, 'a.csv'), 'x,y\n1,2\n3,4\n')
    const { values, pos } = await drain(source.csv(join(dir, '*.csv'), { types: { x: 'number', y: 'number' } }))
    assert.deepEqual(values, [
      [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      [{ y: 2, x: 1 }],
    ])
    assert.deepEqual(pos[1], [`${join(dir, 'b.csv')}:2`])
  })
})

test('a large CSV file across many chunks matches a batch-free reading', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'big.csv')
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ id: i, text: i % 1000 === 0 ? `"multi\nline ${'€'.repeat(i % 97)}, ""quoted"""` : `plain ${'ß'.repeat(i % 41)}` }))
    const content = 'id,text\n' + rows.map((r) => `${r.id},${r.text}`).join('\n') + '\n'
    assert.ok(Buffer.byteLength(content) > 1 << 20)
    await writeFile(path, content)
    const expected = rows.map((r) => ({ id: r.id, text: r.text.startsWith('"') ? r.text.slice(1, -1).replaceAll('""', '"') : r.text }))
    for (const chunkSize of [1 << 20, 4099]) {
      const { values, malformed, reader } = await drain(source.csv(path, { types: { id: 'number' }, chunkSize, multiline: true }), 512)
      assert.equal(malformed.length, 0)
      assert.deepEqual(values[0], expected)
      assert.equal(reader.position(0).line, 30_001 + 30)
    }
  })
})

test('CSV under the pipeline error policies', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'p.csv')
    await writeFile(path, 'n\n1\nx\n3\n')
    const types = { n: 'number' } as const

    const failing = pipeline('csv-fail')
    failing.from(source.csv(path, { types })).to(sink.collect())
    await assert.rejects(run(failing), (e: unknown) => e instanceof SluiceError && e.position === `${path}:3` && e.step === 'source-csv-1')

    const out = sink.collect<{ n: number }>()
    const errs = sink.collect<ErrorRecord>()
    const p = pipeline('csv-errors', { onError: 'error-output' })
    p.from(source.csv<{ n: number }>(path, { types })).to(out)
    p.errors().to(errs)
    await run(p)
    assert.deepEqual(out.values, [{ n: 1 }, { n: 3 }])
    assert.deepEqual(
      errs.values.map((e) => [e.position, e.record]),
      [[`${path}:3`, 'x']],
    )
  })
})

test('bad options and a bad header are user errors', async () => {
  assert.throws(() => source.csv('x.csv', { delimiter: ';;' }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_OPTION')
  assert.throws(() => source.csv('x.csv', { columns: ['a', 'a'] }), /appears twice/)
  assert.throws(() => source.csv('x.csv', { columns: ['a'], types: { b: 'number' } }), /'b'/)
  await withTempDir(async (dir) => {
    const path = join(dir, 'h.csv')
    await writeFile(path, 'a,b\n1,2\n')
    await assert.rejects(drain(source.csv(path, { types: { c: 'number' } })), (e: unknown) => e instanceof SluiceError && e.position === `${path}:1` && /'c'/.test(e.message))
    await writeFile(path, '"a,b\n')
    await assert.rejects(drain(source.csv(path)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CSV_BAD_HEADER')
    await assert.rejects(drain(source.csv(path, { multiline: true })), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_CSV_BAD_HEADER')
    await writeFile(path, '')
    assert.deepEqual((await drain(source.csv(path))).values, [[]])
  })
})

test('resumeFrom skips the header and the rows before the position', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'r.csv')
    await writeFile(path, 'a\n1\n2\n3\n')
    assert.deepEqual((await drain(source.csv(path, { resumeFrom: { [path]: { offset: 0, line: 0 } } }))).values, [[{ a: '1' }, { a: '2' }, { a: '3' }]])
    const { values, pos } = await drain(source.csv(path, { resumeFrom: { [path]: { offset: 6, line: 3 } } }))
    assert.deepEqual(values, [[{ a: '3' }]])
    assert.deepEqual(pos, [[`${path}:4`]])
  })
})

test('follow mode waits for the header and for appended rows', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'f.csv')
    await writeFile(path, 'n,')
    const out = sink.collect<{ n: number; s: string }>()
    const p = pipeline('csv-follow')
    p.from(source.csv<{ n: number; s: string }>(path, { follow: true, pollInterval: '10ms', types: { n: 'number' }, multiline: true })).to(out)
    const stop = new AbortController()
    const running = run(p, { signal: stop.signal })
    try {
      await appendFile(path, 's\n1,"a\n')
      await appendFile(path, 'b"\n2,c\n')
      const deadline = Date.now() + 20_000
      while (out.values.length < 2) {
        if (Date.now() > deadline) assert.fail('timed out waiting for the appended rows')
        await new Promise((r) => setTimeout(r, 10))
      }
    } finally {
      stop.abort()
    }
    assert.equal((await running).status, 'stopped')
    assert.deepEqual(out.values, [
      { n: 1, s: 'a\nb' },
      { n: 2, s: 'c' },
    ])
  })
})

test('any quoted CSV reads back its rows, whatever the chunk size and batch size', async () => {
  const field = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'é', '😀', ',', '"', '\n', '\r\n', ' ', '1'), maxLength: 8 }), fc.constant(''))
  const rows = fc.array(fc.tuple(field, field), { maxLength: 12 })
  await withTempDir(async (dir) => {
    const path = join(dir, 'prop.csv')
    await fc.assert(
      fc.asyncProperty(rows, fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), async (data, chunkSize, max, crlf) => {
        const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f)
        const nl = crlf ? '\r\n' : '\n'
        await writeFile(path, `a,b${nl}` + data.map(([a, b]) => `${quote(a)},${quote(b)}${nl}`).join(''))
        const { values, malformed } = await drain(source.csv(path, { chunkSize, multiline: true }), max)
        assert.deepEqual(malformed, [])
        assert.deepEqual(
          values[0],
          data.map(([a, b]) => ({ a, b })),
        )
      }),
      { numRuns: 150 },
    )
  })
})

test('an unbalanced quote is an error for its line only; the next line is read (and with multiline, within maxRecordBytes)', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'stray.csv')
    const rows = Array.from({ length: 200 }, (_, i) => `${i},v${i}`)
    rows[10] = '10,"stray'
    rows[50] = '50,x"y'
    await writeFile(path, 'n,s\n' + rows.join('\n') + '\n')
    for (const opts of [{}, { multiline: true, maxRecordBytes: 64 }]) {
      for (const chunkSize of [7, 1 << 20]) {
        const { values, malformed } = await drain(source.csv(path, { ...opts, chunkSize }), 33)
        assert.equal(values[0].length, 198, JSON.stringify(opts))
        assert.deepEqual(
          malformed.map((m) => [m.position, m.code, m.raw]),
          [
            [`${path}:12`, 'SLUICE_BAD_CSV', '10,"stray'],
            [`${path}:52`, 'SLUICE_BAD_CSV', '50,x"y'],
          ],
        )
      }
    }
  })
})

test('bytes are kept exactly: invalid UTF-8 is an error with the exact bytes, or decoded by an explicit option', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bytes.csv')
    const bad = Buffer.from([0x32, 0x2c, 0x61, 0xff, 0xfe, 0x62])
    await writeFile(path, Buffer.concat([Buffer.from('n,s\n1,a\n'), bad, Buffer.from('\n3,c\n')]))
    const strict = await drain(source.csv(path))
    assert.deepEqual(strict.values[0], [{ n: '1', s: 'a' }, { n: '3', s: 'c' }])
    assert.deepEqual(strict.malformed.map((m) => [m.code, Buffer.compare(Buffer.from(m.raw as Uint8Array), bad)]), [['SLUICE_BAD_UTF8', 0]])
    const latin1 = await drain(source.csv(path, { invalidUtf8: 'latin1' }))
    assert.equal(Buffer.from((latin1.values[0][1] as { s: string }).s, 'latin1').toString('hex'), '61fffe62')
    const replaced = await drain(source.csv(path, { invalidUtf8: 'replace' }))
    assert.equal((replaced.values[0][1] as { s: string }).s, 'a\uFFFD\uFFFDb')
  })
})
