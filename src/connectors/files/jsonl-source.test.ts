import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline, run, sink, source, window, agg, SluiceError } from '../../index.ts'
import type { ErrorRecord } from '../../index.ts'
import { END, type SourceContext } from '../../core/source.ts'
import type { Position } from '../../core/batch.ts'
import type { FileSourceReader } from './file-source.ts'
import { drain, withTempDir } from './test-support.ts'

test('reads a file larger than one chunk, with long lines and multi-byte characters across chunk ends', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'big.jsonl')
    // Lines of varying length, some longer than a chunk; 'é' and '😀' land on chunk boundaries somewhere.
    const records = Array.from({ length: 400 }, (_, i) => ({ i, text: (i % 2 ? 'é' : '😀').repeat(i % 7 === 0 ? 300_000 : 1 + ((i * 37) % 5000)) }))
    const content = records.map((r) => JSON.stringify(r)).join('\n') + '\n'
    assert.ok(Buffer.byteLength(content) > 3 * (1 << 20))
    await writeFile(path, content)
    const { values, pos, malformed, reader } = await drain(source.jsonl(path), 7)
    assert.equal(malformed.length, 0)
    assert.deepEqual(values[0], records)
    assert.deepEqual(pos[0], records.map((_, i) => `${path}:${i + 1}`))
    assert.deepEqual(reader.position(0), { file: path, offset: Buffer.byteLength(content), line: 400 })
  })
})

test('handles CRLF, blank lines, a byte order mark and a missing last line break', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'crlf.jsonl')
    await writeFile(path, '\uFEFF{"a":1}\r\n\r\n  \r\n{"a":"ü"}\r\n{"a":3}')
    const { values, pos, malformed } = await drain(source.jsonl(path))
    assert.deepEqual(values[0], [{ a: 1 }, { a: 'ü' }, { a: 3 }])
    assert.deepEqual(pos[0], [`${path}:1`, `${path}:4`, `${path}:5`])
    assert.equal(malformed.length, 0)
  })
})

test('reports malformed lines with their position and without their contents, and reads on', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.jsonl')
    await writeFile(path, '{"n":1}\n{"n":secret}\n{"n":3}\n{"n":\n{"n":-5}\n{"n":6}\n')
    const parse = (raw: unknown) => {
      const n = (raw as { n: number }).n
      if (n < 0) throw new Error('n must not be negative')
      return { n }
    }
    const { values, malformed } = await drain(source.jsonl(path, { parse }))
    assert.deepEqual(values[0], [{ n: 1 }, { n: 3 }, { n: 6 }])
    assert.deepEqual(
      malformed.map((m) => [m.position, m.raw]),
      [
        [`${path}:2`, '{"n":secret}'],
        [`${path}:4`, '{"n":'],
        [`${path}:5`, '{"n":-5}'],
      ],
    )
    assert.ok(!malformed[0].error.includes('secret'), malformed[0].error)
    assert.match(malformed[0].error, /not valid JSON/)
    assert.equal(malformed[2].error, 'n must not be negative')
  })
})

async function badFile(dir: string): Promise<string> {
  const path = join(dir, 'bad.jsonl')
  await writeFile(path, '{"n":1}\nnot json\n{"n":3}\n{"n":4}\n\n{oops}\n')
  return path
}

test("onError 'fail' stops the job naming the step and the file:line", async () => {
  await withTempDir(async (dir) => {
    const path = await badFile(dir)
    const p = pipeline('jsonl-fail')
    p.from(source.jsonl(path)).to(sink.collect())
    await assert.rejects(run(p), (e: unknown) => {
      assert.ok(e instanceof SluiceError)
      assert.equal(e.step, 'source-jsonl-1')
      assert.equal(e.position, `${path}:2`)
      assert.equal(e.domain, 'user')
      assert.ok(!e.describe().includes('not json'))
      return true
    })
  })
})

test("onError 'skip' drops malformed lines and counts them", async () => {
  await withTempDir(async (dir) => {
    const path = await badFile(dir)
    const out = sink.collect<{ n: number }>()
    const p = pipeline('jsonl-skip', { onError: 'skip' })
    p.from(source.jsonl<{ n: number }>(path)).to(out)
    const summary = await run(p)
    assert.deepEqual(out.values, [{ n: 1 }, { n: 3 }, { n: 4 }])
    assert.equal(summary.errors, 2)
    assert.equal(summary.dropped, 2)
    assert.equal(summary.recordsIn, 3)
  })
})

test("onError 'error-output' sends malformed lines to errors() with their positions", async () => {
  await withTempDir(async (dir) => {
    const path = await badFile(dir)
    const out = sink.collect<{ n: number }>()
    const errs = sink.collect<ErrorRecord>()
    const p = pipeline('jsonl-errors', { onError: 'error-output' })
    p.from(source.jsonl<{ n: number }>(path)).to(out)
    p.errors().to(errs)
    await run(p)
    assert.deepEqual(out.values, [{ n: 1 }, { n: 3 }, { n: 4 }])
    assert.deepEqual(
      errs.values.map((e) => [e.step, e.position, e.record]),
      [
        ['source-jsonl-1', `${path}:2`, 'not json'],
        ['source-jsonl-1', `${path}:6`, '{oops}'],
      ],
    )
  })
})

test('a glob reads each matching file as a partition with its own watermark, in sorted order', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'in'))
    // File a runs far ahead in event time; one shared watermark would make all of b late.
    await writeFile(join(dir, 'in', 'a.jsonl'), [1000, 2000, 3000, 4000].map((ts) => JSON.stringify({ f: 'a', ts })).join('\n') + '\n')
    await writeFile(join(dir, 'in', 'b.jsonl'), [100, 200, 1100].map((ts) => JSON.stringify({ f: 'b', ts })).join('\n') + '\n')
    await writeFile(join(dir, 'in', 'skip.txt'), 'not matched\n')
    const src = source.jsonl<{ f: string; ts: number }>(join(dir, 'in', '*.jsonl'), { eventTime: (r) => r.ts })
    const { values, pos } = await drain(src)
    assert.deepEqual(values.map((v) => v.map((r) => r.f).join('')), ['aaaa', 'bbb'])
    assert.equal(pos[1][2], `${join(dir, 'in', 'b.jsonl')}:3`)

    const out = sink.collect<{ key: string; start: number; value: number }>()
    const p = pipeline('jsonl-glob')
    p.from(src)
      .keyBy(() => 'all')
      .window(window.tumbling({ size: '1s' }))
      .aggregate(agg.count())
      .to(out)
    const summary = await run(p)
    assert.equal(summary.late, 0)
    assert.deepEqual(
      out.values.map((w) => [w.start, w.value]).sort((x, y) => x[0] - y[0]),
      [
        [0, 2],
        [1000, 2],
        [2000, 1],
        [3000, 1],
        [4000, 1],
      ],
    )
  })
})

test('an array of paths and patterns, read in the order given', async () => {
  await withTempDir(async (dir) => {
    for (const n of ['x', 'y1', 'y2']) await writeFile(join(dir, `${n}.jsonl`), `"${n}"\n`)
    const { values, reader } = await drain(source.jsonl([join(dir, 'y*.jsonl'), join(dir, 'x.jsonl')]))
    assert.deepEqual(values, [['y1'], ['y2'], ['x']])
    assert.deepEqual(reader.files, [join(dir, 'y1.jsonl'), join(dir, 'y2.jsonl'), join(dir, 'x.jsonl')])
  })
})

test('a missing file, a folder and a pattern with no match are user errors naming the path', async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, 'missing.jsonl')
    const p1 = pipeline('jsonl-missing')
    p1.from(source.jsonl(missing)).to(sink.collect())
    await assert.rejects(run(p1), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_NOT_FOUND' && e.domain === 'user' && e.message.includes(missing) && e.step === 'source-jsonl-1')
    const pattern = join(dir, 'nothing-*.jsonl')
    const p2 = pipeline('jsonl-nomatch')
    p2.from(source.jsonl(pattern)).to(sink.collect())
    await assert.rejects(run(p2), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_NO_FILES' && e.domain === 'user' && e.message.includes(pattern))
    await assert.rejects(drain(source.jsonl(dir)), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_FILE_UNREADABLE' && e.message.includes(dir))
    assert.throws(() => source.jsonl([]), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_ARGUMENT')
    assert.throws(() => source.jsonl('x', { startAt: 'end' }), /needs follow/)
  })
})

test('an unreadable file is an external error naming the path', { skip: process.getuid?.() === 0 ? 'permissions do not apply to root' : false }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'locked.jsonl')
    await writeFile(path, '1\n')
    await chmod(path, 0)
    await assert.rejects(drain(source.jsonl(path)), (e: unknown) => e instanceof SluiceError && e.domain === 'external' && e.message.includes(path))
  })
})

test('resumeFrom starts each file at the position the reader reported', async () => {
  await withTempDir(async (dir) => {
    const a = join(dir, 'a.jsonl')
    const b = join(dir, 'b.jsonl')
    await writeFile(a, '1\n2\n3\n4\n5\n')
    await writeFile(b, '10\n20\n')
    const ctx: SourceContext = { pipeline: 't', stepId: 's', signal: new AbortController().signal, malformed: () => assert.fail('no malformed lines') }
    const first = (await source.jsonl<number>(a).open(ctx)) as FileSourceReader<number>
    const r = await first.read(0, 2)
    assert.ok(r !== null && r !== END)
    assert.deepEqual(r.values, [1, 2])
    const at = first.position(0)
    assert.deepEqual(at, { file: a, offset: 4, line: 2 })
    await first.close()
    const { values, pos } = await drain(source.jsonl<number>([a, b], { resumeFrom: { [a]: { offset: at.offset, line: at.line } } }))
    assert.deepEqual(values, [[3, 4, 5], [10, 20]])
    assert.deepEqual(pos[0], [`${a}:3`, `${a}:4`, `${a}:5`])
  })
})

/** Polls until `cond` holds; fails after a generous limit (no assertion on timing). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('follow mode tails a file: appended lines arrive, a partial line waits for its line break', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'tail.jsonl')
    await writeFile(path, '{"n":1}\n{"n":2}\n')
    const src = source.jsonl<{ n: number }>(path, { follow: true, pollInterval: '10ms' })
    assert.equal(src.bounded, false)
    const out = sink.collect<{ n: number }>()
    const p = pipeline('jsonl-follow')
    p.from(src).to(out)
    const stop = new AbortController()
    const running = run(p, { signal: stop.signal })
    try {
      await until(() => out.values.length >= 2, 'the first lines')
      await appendFile(path, '{"n":3}\n{"n":')
      await until(() => out.values.length >= 3, 'the appended line')
      await appendFile(path, '4}\n')
      await until(() => out.values.length >= 4, 'the completed line')
    } finally {
      stop.abort()
    }
    const summary = await running
    assert.equal(summary.status, 'stopped')
    assert.deepEqual(out.values, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
  })
})

test("follow with startAt 'end' reads only lines appended after the start", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'tail.jsonl')
    await writeFile(path, '{"n":1}\n{"n":2}\n{"n":')
    const malformed: Position[] = []
    const ctx: SourceContext = { pipeline: 't', stepId: 's', signal: new AbortController().signal, malformed: (_e, _raw, position) => malformed.push(position) }
    const reader = (await source.jsonl<{ n: number }>(path, { follow: true, startAt: 'end', pollInterval: '10ms' }).open(ctx)) as FileSourceReader<{ n: number }>
    try {
      assert.deepEqual(reader.position(0), { file: path, offset: 16, line: 2 })
      assert.equal(await reader.read(0, 10), null)
      // The partial line in progress at the start belongs to the new data.
      await appendFile(path, '3}\nbad\n{"n":4}\n')
      const values: { n: number }[] = []
      await until(async () => {
        const r = await reader.read(0, 10)
        assert.notEqual(r, END)
        if (r !== null && r !== END) values.push(...r.values)
        return values.length >= 2
      }, 'the appended lines')
      assert.deepEqual(values, [{ n: 3 }, { n: 4 }])
      assert.deepEqual(malformed, [`${path}:4`])
      assert.deepEqual(reader.position(0), { file: path, offset: 36, line: 5 })
    } finally {
      await reader.close()
    }
  })
})

test('a followed file that is truncated is read again from its start', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'rotated.jsonl')
    await writeFile(path, '1\n2\n3\n')
    const ctx: SourceContext = { pipeline: 't', stepId: 's', signal: new AbortController().signal, malformed: () => assert.fail('no malformed lines') }
    const reader = (await source.jsonl<number>(path, { follow: true, pollInterval: '10ms' }).open(ctx)) as FileSourceReader<number>
    try {
      const values: number[] = []
      const readUntil = (n: number) =>
        until(async () => {
          const r = await reader.read(0, 10)
          if (r !== null && r !== END) values.push(...r.values)
          return values.length >= n
        }, `${n} values`)
      await readUntil(3)
      await writeFile(path, '7\n')
      await readUntil(4)
      assert.deepEqual(values, [1, 2, 3, 7])
      assert.deepEqual(reader.position(0), { file: path, offset: 2, line: 1 })
    } finally {
      await reader.close()
    }
  })
})

test('JSONL keeps bytes exactly: invalid UTF-8 and over-long lines are errors with their exact bytes and a parse code', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bytes.jsonl')
    const bad = Buffer.from('{"name":"caf\xe9"}', 'latin1')
    const long = `{"pad":"${'x'.repeat(200)}"}`
    await writeFile(path, Buffer.concat([Buffer.from('{"a":1}\n{"b":\n'), bad, Buffer.from(`\n${long}\n{"c":"\uFFFD"}\n`)]))
    const { values, malformed: reported } = await drain(source.jsonl(path, { maxRecordBytes: 100 }))
    const malformed = reported.sort((x, y) => String(x.position).localeCompare(String(y.position)))
    assert.deepEqual(values[0], [{ a: 1 }, { c: '\uFFFD' }])
    assert.deepEqual(
      malformed.map((m) => [m.position, m.code]),
      [
        [`${path}:2`, 'SLUICE_BAD_JSON'],
        [`${path}:3`, 'SLUICE_BAD_UTF8'],
        [`${path}:4`, 'SLUICE_RECORD_TOO_LARGE'],
      ],
    )
    assert.equal(malformed[0].raw, '{"b":')
    assert.ok(Buffer.from(malformed[1].raw as Uint8Array).equals(bad))
    assert.equal(malformed[2].raw, long.slice(0, 100))
    assert.match(malformed[2].error, /takes 210 bytes, more than maxRecordBytes \(100\)/)
    const latin1 = await drain(source.jsonl(path, { invalidUtf8: 'latin1' }))
    assert.deepEqual(latin1.values[0][1], { name: 'caf\xe9' })
  })
})
