import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse as parseCsv } from 'csv-parse/sync'
import { pipeline, run, sink, source } from '../../index.ts'
import type { ErrorRecord } from '../../index.ts'
import { readDeadLetters } from '../../dlq/reader.ts'
import { redriveLine } from '../../dlq/record.ts'
import { withTempDir } from './test-support.ts'

/**
 * Fuzz of the JSONL and CSV sources through a pipeline, deterministic by seed: valid records mixed with
 * at least 20,000 mutated lines (byte flips, truncation, inserted quotes, braces, control bytes, invalid
 * UTF-8). Under skip, error-output and dead-letter: the job never fails, the accepted records are those
 * a reference decoder (strict UTF-8, then JSON.parse or csv-parse of the line alone) accepts, every
 * other line is on the error path with its position, and the raw payload of each error record and dead
 * letter is the line's exact bytes (line ending excluded).
 */

const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 20_240_901)
const MUTATED = 10_500 // per format: 21,000 in all
const VALID = 4_000

function prng(seed: number): () => number {
  let a = seed | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const INSERTS = [[0x22], [0x7b], [0x7d], [0x5b], [0x2c], [0x00], [0x01], [0x1b], [0x7f], [0x0d], [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x5c], [0x22, 0x22]]

/** One mutation of `line`, never adding a line break (LF) nor ending in CR (the line ending). */
function mutate(line: Buffer, r: () => number): Buffer {
  let b = Buffer.from(line)
  const n = 1 + Math.floor(r() * 3)
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (b.length + 1))
    const kind = Math.floor(r() * 4)
    if (kind === 0 && b.length > 0) {
      const i = Math.min(at, b.length - 1)
      b[i] ^= 1 << Math.floor(r() * 8)
      if (b[i] === 0x0a) b[i] = 0x0b
    } else if (kind === 1) b = b.subarray(0, Math.floor(r() * b.length))
    else if (kind === 2 && b.length > 0) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 4)))])
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(INSERTS[Math.floor(r() * INSERTS.length)]), b.subarray(at)])
  }
  while (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1)
  return b
}

const WORDS = ['plain', 'ümlaut', 'naïve café', '日本語', '😀 emoji', 'comma, inside', 'quote " inside', 'tab\there', '']

function validJson(i: number, r: () => number): Buffer {
  return Buffer.from(JSON.stringify({ id: i, s: WORDS[Math.floor(r() * WORDS.length)], n: Math.floor(r() * 1000) / 10, ok: r() < 0.5 }))
}

function validCsv(i: number, r: () => number): Buffer {
  const w = WORDS[Math.floor(r() * WORDS.length)]
  const q = /[",]/.test(w) ? `"${w.replaceAll('"', '""')}"` : w
  return Buffer.from(`${i},${q},${Math.floor(r() * 1000)}`)
}

interface Case {
  lines: Buffer[]
  /** Per line: the value a reference decoder accepts, 'error', or 'blank' (skipped). */
  expect: (unknown | 'error' | 'blank')[]
}

function build(kind: 'jsonl' | 'csv'): Case {
  const r = prng(SEED + (kind === 'csv' ? 1 : 0))
  const lines: Buffer[] = []
  const total = MUTATED + VALID
  for (let i = 0; i < total; i++) {
    const good = kind === 'jsonl' ? validJson(i, r) : validCsv(i, r)
    lines.push(r() < MUTATED / total ? mutate(good, r) : good)
  }
  return { lines, expect: lines.map((l) => reference(kind, l)) }
}

const CSV_OPTIONS = { delimiter: ',', quote: '"', record_delimiter: '\n', relax_column_count: true }

function reference(kind: 'jsonl' | 'csv', line: Buffer): unknown {
  if (!isUtf8(line)) return 'error'
  const text = line.toString('utf8')
  if (kind === 'jsonl') {
    if (text.trim() === '') return 'blank'
    try {
      return JSON.parse(text)
    } catch {
      return 'error'
    }
  }
  if (text === '') return 'blank'
  try {
    const rows = parseCsv(text, CSV_OPTIONS) as string[][]
    if (rows.length !== 1 || rows[0].length !== 3) return 'error'
    return { id: rows[0][0], s: rows[0][1], n: rows[0][2] }
  } catch {
    return 'error'
  }
}

function sourceOf(kind: 'jsonl' | 'csv', path: string) {
  return kind === 'jsonl' ? source.jsonl(path, { chunkSize: 4099 }) : source.csv(path, { columns: ['id', 's', 'n'], chunkSize: 4099 })
}

function rawBytes(raw: unknown): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8')
  assert.ok(raw instanceof Uint8Array, `raw payload of type ${typeof raw}`)
  return Buffer.from(raw)
}

for (const kind of ['jsonl', 'csv'] as const) {
  test(`fuzz ${kind}: ${MUTATED} mutated lines among ${VALID} valid ones; records out plus error records equal records in, bytes exact (seed ${SEED})`, async () => {
    const c = build(kind)
    const accepted = c.expect.filter((e) => e !== 'error' && e !== 'blank')
    const errorLines = c.expect.flatMap((e, i) => (e === 'error' ? [i + 1] : []))
    assert.ok(errorLines.length > MUTATED / 2, `${errorLines.length} lines on the error path`)
    await withTempDir(async (dir) => {
      const path = join(dir, `in.${kind}`)
      await writeFile(path, Buffer.concat(c.lines.flatMap((l) => [l, Buffer.from('\n')])))
      const lineOf = (pos: unknown) => Number(String(pos).slice(path.length + 1))

      for (const policy of ['skip', 'error-output', 'dead-letter'] as const) {
        const out = sink.collect<unknown>()
        const errs = sink.collect<ErrorRecord>()
        const p = pipeline(`fuzz-${kind}-${policy}`, { onError: policy, ...(policy === 'dead-letter' ? { deadLetter: { dir: join(dir, 'log') } } : {}) })
        p.from(sourceOf(kind, path)).to(out)
        if (policy === 'error-output') p.errors().to(errs)
        const summary = await run(p)
        assert.deepEqual(out.values, accepted, `${policy}: accepted records`)
        assert.equal(summary.errors, errorLines.length, `${policy}: errors counted`)
        if (policy === 'skip') assert.equal(summary.dropped, errorLines.length)
        if (policy === 'error-output') {
          assert.deepEqual(errs.values.map((e) => lineOf(e.position)).sort((a, b) => a - b), errorLines)
          for (const e of errs.values) assert.ok(rawBytes(e.record).equals(c.lines[lineOf(e.position) - 1]), `error record of line ${lineOf(e.position)} is not byte-exact`)
        }
        if (policy === 'dead-letter') {
          const letters = await readDeadLetters(join(dir, 'log'), `fuzz-${kind}-${policy}.dlq`)
          assert.deepEqual(letters.map((l) => lineOf(l.position)).sort((a, b) => a - b), errorLines)
          for (const l of letters) {
            assert.equal(l.reason, 'parse')
            assert.match(String(l.error.code), /^SLUICE_(BAD_JSON|BAD_CSV|BAD_UTF8)$/)
            assert.ok(redriveLine(l)!.equals(c.lines[lineOf(l.position) - 1]), `letter of line ${lineOf(l.position)} is not byte-exact`)
          }
        }
      }
    })
  })
}
