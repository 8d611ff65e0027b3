// A record that is not plain data (here: a function) goes to the error path with its step and position at every
// parallelism: at 1 the sink cannot write it; above 1 it cannot be sent to the thread of the sink either. Under
// every policy p1 and p2 agree on what is written and what fails; no message holds the record's content.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { run, SluiceError } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'
import { RECORDS, build, isBad, writeInput, type Rec } from './fixtures/unsendable.ts'

const module = new URL('./fixtures/unsendable.ts', import.meta.url).href
const REASON = /cannot write the record as JSON: it is undefined, a function or a Symbol|cannot be sent to step 'out' on another thread: it is not plain data/
/** Where a bad record fails: in the sink at p1 (and on the sink's thread), in the step before it when it must cross threads. */
const STEPS = ['out', 'transform']
const good = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !isBad(i))
const badIds = Array.from({ length: RECORDS }, (_, i) => i).filter(isBad)

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-unsendable-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function written(dir: string): number[] {
  const f = join(dir, 'out.jsonl')
  if (!existsSync(f)) return []
  return readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Rec).id).sort((a, b) => a - b)
}

const byLine = (a: unknown, b: unknown) => String(a).localeCompare(String(b), 'en', { numeric: true })

for (const policy of ['skip', 'error-output', 'dead-letter', 'fail'] as const) {
  test(`under '${policy}', p1 and p2 agree on a record that is not plain data`, async () => {
    const outcomes: unknown[] = []
    for (const parallelism of [1, 2]) {
      outcomes.push(
        await withDir(async (dir) => {
          const input = writeInput(dir)
          const params = { policy, dir }
          const { pipeline, errors } = build(params)
          const positions = badIds.map((id) => `${input}:${id + 1}`)
          const opts = parallelism > 1 ? { parallelism, module, params } : {}
          if (policy === 'fail') {
            const e = await run(pipeline, opts).then(
              () => assert.fail('the job finished'),
              (err: unknown) => err,
            )
            assert.ok(e instanceof SluiceError, String(e))
            assert.equal(e.code, 'SLUICE_RECORD_UNWRITABLE', e.message)
            assert.ok(STEPS.includes(String(e.step)), `step ${e.step}`)
            // Positions ride along through stateless steps only (here a keyed step comes first), at every parallelism.
            assert.equal(e.position, undefined)
            assert.match(e.message, REASON)
            assert.doesNotMatch(e.describe(), /SECRET/)
            return { code: e.code }
          }
          const s = await run(pipeline, opts)
          assert.equal(s.status, 'finished')
          assert.equal(s.errors, badIds.length)
          assert.equal(s.steps.filter((m) => STEPS.includes(m.step)).reduce((n, m) => n + m.errors, 0), badIds.length)
          let failed: unknown[] = []
          if (policy === 'error-output') {
            for (const r of errors.values) {
              assert.ok(STEPS.includes(r.step), r.step)
              assert.match(r.error, REASON)
            }
            failed = errors.values.map((r) => r.position).sort(byLine)
          } else if (policy === 'dead-letter') {
            const letters = await readDeadLetters(join(dir, 'dlq'), 'unsendable.dlq')
            for (const l of letters) {
              assert.ok(STEPS.includes(l.step), l.step)
              assert.equal(l.error.code, 'SLUICE_RECORD_UNWRITABLE')
              assert.doesNotMatch(l.error.message, /SECRET/)
            }
            failed = letters.map((l) => l.position).sort(byLine)
          }
          if (policy !== 'skip') assert.equal(failed.length, positions.length)
          assert.deepEqual(written(dir), good)
          return { written: written(dir), failed }
        }),
      )
    }
    assert.deepEqual(outcomes[1], outcomes[0])
  })
}
