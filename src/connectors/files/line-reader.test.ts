import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { LineReader, endOfLastLine, type LineProblem, type QuoteRule } from './line-reader.ts'

async function withFile<R>(content: string | Buffer, fn: (path: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lines-'))
  try {
    const path = join(dir, 'f.txt')
    await writeFile(path, content)
    return await fn(path)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Reads a whole file through a LineReader, `max` records per call. */
async function readAll(path: string, opts: { chunkSize: number; max?: number; quoteRule?: QuoteRule; offset?: number; line?: number; maxRecordBytes?: number }) {
  const fh = await open(path, 'r')
  try {
    const r = new LineReader(fh, opts)
    const texts: string[] = []
    const lines: number[] = []
    let problems: (LineProblem | undefined)[] | undefined
    for (;;) {
      const got = await r.read(opts.max ?? 3, true)
      if (got.problems !== undefined) {
        problems ??= new Array<LineProblem | undefined>(texts.length).fill(undefined)
        problems.push(...got.problems)
      } else problems?.push(...new Array<undefined>(got.texts.length).fill(undefined))
      texts.push(...got.texts)
      lines.push(...got.lines)
      if (got.eof) return { texts, lines, offset: r.offset, line: r.line, problems }
    }
  } finally {
    await fh.close()
  }
}

/** The reference: split on LF, drop one trailing CR, no record for an empty tail. */
function reference(content: string): string[] {
  const parts = content.split('\n')
  if (parts[parts.length - 1] === '') parts.pop()
  return parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p))
}

test('splits lines like the reference for any chunk size, including multi-byte characters across chunks', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('\n', '\r\n', 'é', '€', '😀', '\r')), { maxLength: 30 }).map((a) => a.join('')),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 4 }),
      async (content, chunkSize, max) => {
        const got = await withFile(content, (p) => readAll(p, { chunkSize, max }))
        const want = reference(content)
        assert.deepEqual(got.texts, want)
        assert.deepEqual(got.lines, want.map((_, i) => i + 1))
        assert.equal(got.offset, Buffer.byteLength(content))
      },
    ),
    { numRuns: 150 },
  )
})

test('drops a UTF-8 byte order mark and counts it in the offset', async () => {
  const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb\n')])
  for (const chunkSize of [1, 2, 4, 100]) {
    const got = await withFile(content, (p) => readAll(p, { chunkSize }))
    assert.deepEqual(got.texts, ['a', 'b'])
    assert.equal(got.offset, content.length)
  }
})

test('holds a last line without its line break unless the read is final', async () => {
  await withFile('one\ntw', async (path) => {
    const fh = await open(path, 'r')
    const r = new LineReader(fh, { chunkSize: 4 })
    assert.deepEqual(await r.read(10, false), { texts: ['one'], lines: [1], eof: true })
    assert.deepEqual([r.offset, r.line], [4, 1])
    await appendFile(path, 'o\nthree\n')
    assert.deepEqual(await r.read(10, false), { texts: ['two', 'three'], lines: [2, 3], eof: true })
    assert.deepEqual([r.offset, r.line], [14, 3])
    await fh.close()
  })
})

test('resumes at an offset and line', async () => {
  const got = await withFile('a\nb\nc\n', (p) => readAll(p, { chunkSize: 2, offset: 2, line: 1 }))
  assert.deepEqual(got.texts, ['b', 'c'])
  assert.deepEqual(got.lines, [2, 3])
})

test('with a quote rule, line breaks inside quoted fields do not end the record', async () => {
  const rule = { quote: 34, delimiter: 44 }
  const content = 'a,"x\ny",b\r\n"q""\n",2\nplain,"z"\nstray"q,1\n"open\n'
  for (const chunkSize of [1, 3, 5, 64]) {
    const got = await withFile(content, (p) => readAll(p, { chunkSize, quoteRule: rule }))
    // A quote still open at the end of the file ends at its own line, reported as unterminated.
    assert.deepEqual(got.texts, ['a,"x\ny",b', '"q""\n",2', 'plain,"z"', 'stray"q,1', ''])
    assert.deepEqual(got.problems, [undefined, undefined, undefined, undefined, { kind: 'unterminated-quote', bytes: Buffer.from('"open'), size: 5 }])
    assert.deepEqual(got.lines, [1, 3, 5, 6, 7])
    assert.equal(got.line, 7)
  }
})

test('a quoted field open past maxRecordBytes is cut back to its first line, and reading resumes on the next line', async () => {
  const rule = { quote: 34, delimiter: 44 }
  const rows = Array.from({ length: 40 }, (_, i) => `${i},row${i}`)
  rows[5] = '5,"stray'
  const content = rows.join('\n') + '\n'
  for (const chunkSize of [1, 7, 64, 4096]) {
    const got = await withFile(content, (p) => readAll(p, { chunkSize, quoteRule: rule, maxRecordBytes: 50 }))
    assert.deepEqual(got.texts, rows.map((r, i) => (i === 5 ? '' : r)), `chunk ${chunkSize}`)
    assert.deepEqual(got.lines, rows.map((_, i) => i + 1))
    assert.deepEqual(got.problems?.[5], { kind: 'unterminated-quote', bytes: Buffer.from('5,"stray'), size: 8 })
    assert.equal(got.offset, Buffer.byteLength(content))
  }
})

test('a line that is not valid UTF-8 is a problem holding its exact bytes, never replacement characters', async () => {
  const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x28, 0x22, 0x7d]) // {"a":"\xff\xc3("}
  const content = Buffer.concat([Buffer.from('{"ok":"\uFFFD kept"}\r\n'), bad, Buffer.from('\r\nlast\n')])
  for (const chunkSize of [1, 5, 4096]) {
    const got = await withFile(content, (p) => readAll(p, { chunkSize, max: 10 }))
    assert.deepEqual(got.texts, ['{"ok":"\uFFFD kept"}', '', 'last'])
    assert.deepEqual(got.problems, [undefined, { kind: 'invalid-utf8', bytes: bad, size: bad.length }, undefined])
  }
})

test('a line longer than maxRecordBytes is a too-long problem with its head and size; the next line is read whole', async () => {
  const long = 'x'.repeat(300)
  const content = `a\n${long}\r\nb\n${long}`
  for (const chunkSize of [1, 16, 4096]) {
    const got = await withFile(content, (p) => readAll(p, { chunkSize, maxRecordBytes: 100, max: 10 }))
    assert.deepEqual(got.texts, ['a', '', 'b', ''])
    const head = { kind: 'too-long', bytes: Buffer.from('x'.repeat(100)), size: 300 }
    assert.deepEqual(got.problems, [undefined, head, undefined, head])
    assert.deepEqual(got.lines, [1, 2, 3, 4])
    assert.equal(got.offset, Buffer.byteLength(content))
  }
})

test('endOfLastLine finds the offset after the last line break', async () => {
  await withFile('a\nbb\ncc', async (path) => {
    const fh = await open(path, 'r')
    assert.deepEqual(await endOfLastLine(fh, 2), { offset: 5, line: 2 })
    await fh.close()
  })
})

test('with quotes across lines and a record limit, records (or the bytes of bad ones) rebuild the file exactly, for any chunk size', async () => {
  const rule = { quote: 34, delimiter: 44 }
  const piece = fc.constantFrom('a', 'bc', ',', '"', '""', '\n', 'é', '12', ' ')
  await fc.assert(
    fc.asyncProperty(fc.array(piece, { maxLength: 60 }).map((a) => a.join('')), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), async (content, chunkSize, max) => {
      const longestLine = Math.max(...content.split('\n').map((l) => Buffer.byteLength(l)))
      const maxRecordBytes = longestLine + 4
      const got = await withFile(content, (p) => readAll(p, { chunkSize, max, quoteRule: rule, maxRecordBytes }))
      const records = got.texts.map((t, i) => {
        const p = got.problems?.[i]
        if (p === undefined) return t
        assert.equal(p.kind, 'unterminated-quote')
        assert.equal(p.size, p.bytes.length)
        assert.ok(!p.bytes.includes(10), 'an unterminated record is one line')
        return p.bytes.toString()
      })
      const rebuilt = records.join('\n') + (content.endsWith('\n') && records.length > 0 ? '\n' : '')
      assert.equal(rebuilt, content)
      // Each record starts on the line its number says, and none spans lines past the limit.
      let line = 1
      records.forEach((r, i) => {
        assert.equal(got.lines[i], line)
        if (r.includes('\n')) assert.ok(Buffer.byteLength(r) <= maxRecordBytes)
        line += r.split('\n').length
      })
      assert.equal(got.offset, Buffer.byteLength(content))
    }),
    { numRuns: 300, seed: 4242 },
  )
})
