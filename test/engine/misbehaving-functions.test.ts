import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, SluiceError, type ErrorPolicy } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { CASES, RECORDS, bad, build, writeInput, type Case, type Rec } from './fixtures/misbehaving.ts'

// One bad record never kills a job, whatever it is. Each case makes some records misbehave (a user function
// that throws, rejects, returns undefined or a Promise; a key that cannot be a key; a record a sink cannot
// encode; a malformed line larger than the log's largest record), and runs at parallelism 1 and 2 under every
// error policy: under skip, error-output and dead-letter the job finishes with every good record written and
// every bad one on its error path with its step, position and reason; under fail it stops with the case's code.
// No message ever holds a record's content, and no promise rejection goes unhandled.

const module = new URL('./fixtures/misbehaving.ts', import.meta.url).href
const unhandled: unknown[] = []
process.on('unhandledRejection', (e) => void unhandled.push(e))

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-misbehaving-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function outputIds(dir: string): number[] {
  const f = join(dir, 'out.jsonl')
  if (!existsSync(f)) return []
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as Rec).id)
    .sort((a, b) => a - b)
}

const ids = (c: Case, which: boolean) => Array.from({ length: RECORDS }, (_, i) => i).filter((i) => bad(c, i) === which)
const lineOf = (id: number) => id + 1

function assertNoContent(text: string, what: string): void {
  assert.doesNotMatch(text, /SECRET-\d+/, `${what} prints a record's content`)
}

async function runCase(c: Case, policy: ErrorPolicy, parallelism: number): Promise<void> {
  await withDir(async (dir) => {
    const input = writeInput(dir, c)
    const params = { case: c, policy, dir }
    const { pipeline, errors } = build(params)
    const expected = CASES[c]
    const badIds = ids(c, true)
    const opts = parallelism > 1 ? { parallelism, module, params } : {}
    if (policy === 'fail') {
      await assert.rejects(run(pipeline, opts), (e: unknown) => {
        assert.ok(e instanceof SluiceError, String(e))
        assert.equal(e.code, expected.code, e.message)
        assert.equal(e.step, expected.step)
        assert.equal(e.position, `${input}:${lineOf(badIds[0])}`)
        assert.match(e.message, expected.reason)
        assertNoContent(e.describe(), 'the error')
        return true
      })
      return
    }
    const summary = await run(pipeline, opts)
    assert.equal(summary.status, 'finished')
    assert.deepEqual(outputIds(dir), ids(c, false), 'every good record is written, once')
    assert.equal(summary.errors, badIds.length)
    assert.equal(summary.steps.find((s) => s.step === expected.step)?.errors, badIds.length)
    if (policy === 'error-output') {
      const got = errors.values.slice().sort((a, b) => String(a.position).localeCompare(String(b.position), 'en', { numeric: true }))
      assert.deepEqual(got.map((r) => r.position), badIds.map((id) => `${input}:${lineOf(id)}`))
      for (const r of got) {
        assert.equal(r.step, expected.step)
        assert.match(r.error, expected.reason)
        assertNoContent(r.error, 'an error record')
      }
    }
    if (policy === 'dead-letter') {
      const letters = await readDeadLetters(join(dir, 'dlq'), 'misbehaving.dlq')
      assert.deepEqual(letters.map((l) => l.position).sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true })), badIds.map((id) => `${input}:${lineOf(id)}`))
      for (const l of letters) {
        assert.equal(l.step, expected.step)
        assert.equal(l.reason, expected.letter)
        assert.match(l.error.message, expected.reason)
        if (expected.code !== 'SLUICE_USER_FUNCTION_FAILED') assert.equal(l.error.code, expected.code)
        assertNoContent(l.error.message, 'a dead letter')
        if (c === 'malformed-huge') {
          assert.equal(l.recordTruncated, true, 'a huge line is cut to fit the log, and says so')
          assert.ok(String(l.record).startsWith(`{"id":13,"secret":"SECRET-13",xxx`), 'the letter keeps the line as it came')
        }
      }
    }
  })
}

for (const c of Object.keys(CASES) as Case[]) {
  for (const parallelism of [1, 2]) {
    test(`${c}, p${parallelism}: each policy sends the bad records to its path, with step, position and reason`, async () => {
      for (const policy of ['skip', 'error-output', 'dead-letter', 'fail'] as const) {
        await runCase(c, policy, parallelism).catch((e: unknown) => {
          throw new Error(`under '${policy}': ${e instanceof Error ? e.message : String(e)}`, { cause: e })
        })
      }
      assert.deepEqual(unhandled, [], 'a promise rejection went unhandled')
    })
  }
}
