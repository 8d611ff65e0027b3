import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { LineReader, endOfLastLine, type QuoteRule } from './line-reader.ts'

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
async function readAll(path: string, opts: { chunkSize: number; max?: number; quoteRule?: QuoteRule; offset?: number; line?: number }) {
  const fh = await open(path, 'r')
  try {
    const r = new LineReader(fh, opts)
    const texts: string[] = []
    const lines: number[] = []
    for (;;) {
      const got = await r.read(opts.max ?? 3, true)
      texts.push(...got.texts)
      lines.push(...got.lines)
      if (got.eof) return { texts, lines, offset: r.offset, line: r.line }
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
    assert.deepEqual(got.texts, ['a,"x\ny",b', '"q""\n",2', 'plain,"z"', 'stray"q,1', '"open\n'])
    assert.deepEqual(got.lines, [1, 3, 5, 6, 7])
    assert.equal(got.line, 8)
  }
})

test('endOfLastLine finds the offset after the last line break', async () => {
  await withFile('a\nbb\ncc', async (path) => {
    const fh = await open(path, 'r')
    assert.deepEqual(await endOfLastLine(fh, 2), { offset: 5, line: 2 })
    await fh.close()
  })
})
