import { test } from 'node:test'
import { existsSync } from 'node:fs'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pipeline, run, sink, source } from '../../src/index.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const node = join(root, 'node_modules', '.bin', 'node')

function sluice(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(node, [join(root, 'bin', 'sluice.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, SLUICE_DEBUG: '' } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const lines = ['{"id":1,"ts":1000}', 'not json', '{"id":2,"ts":2000}', '{"id":3,"ts":3000}', '{"id":4}', '{oops}', '{"id":6,"ts":6000}']

interface Row {
  id: number
  ts: number
}

async function runOnce(dir: string): Promise<number[]> {
  const input = join(dir, 'in.jsonl')
  const out = sink.collect<number>()
  const p = pipeline('orders', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log') } })
  p.from(source.jsonl<Row>(input, { eventTime: (r) => r.ts }))
    .map((r: Row) => {
      if (r.id % 3 === 0) throw new Error(`id ${r.id} is divisible by 3`)
      return r.id
    })
    .id('check')
    .to(out)
  const s = await run(p)
  assert.equal(s.errors, 5)
  assert.equal(s.dropped, 0)
  return out.values
}

test("onError 'dead-letter': malformed lines, invalid records and failed functions land in the topic; redrive and the CLI", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlq-e2e-'))
  try {
    const input = join(dir, 'in.jsonl')
    await writeFile(input, lines.join('\n') + '\n')
    assert.deepEqual(await runOnce(dir), [1, 2])

    const letters = await readDeadLetters(join(dir, 'log'), 'orders.dlq')
    const byLine = [...letters].sort((a, b) => Number(String(a.position).split(':').pop()) - Number(String(b.position).split(':').pop()))
    assert.deepEqual(
      byLine.map((l) => [l.step, l.reason, l.position, l.record, l.recordFormat, l.error.message, l.attempts, l.pipeline]),
      [
        ['source-jsonl-1', 'parse', `${input}:2`, 'not json', 'raw', 'not valid JSON', 1, 'orders'],
        ['check', 'user-function', `${input}:4`, { id: 3, ts: 3000 }, 'json', 'id 3 is divisible by 3', 1, 'orders'],
        ['source-jsonl-1', 'validation', `${input}:5`, { id: 4 }, 'json', 'eventTime returned undefined, expected a finite number of epoch milliseconds', 1, 'orders'],
        ['source-jsonl-1', 'parse', `${input}:6`, '{oops}', 'raw', 'not valid JSON (column 2)', 1, 'orders'],
        ['check', 'user-function', `${input}:7`, { id: 6, ts: 6000 }, 'json', 'id 6 is divisible by 3', 1, 'orders'],
      ],
    )
    assert.equal(byLine[1].eventTime, 3000)
    assert.equal('stack' in byLine[1].error, false)

    // CLI: list, show, redrive (twice: the second finds nothing new).
    const log = join(dir, 'log')
    const list = sluice('dlq', 'list', log, '--json')
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(JSON.parse(list.stdout), {
      topic: 'orders.dlq',
      letters: 5,
      pending: 0,
      byStep: [
        { step: 'check', reason: 'user-function', count: 2 },
        { step: 'source-jsonl-1', reason: 'parse', count: 2 },
        { step: 'source-jsonl-1', reason: 'validation', count: 1 },
      ],
    })
    assert.match(sluice('dlq', 'list', log).stdout, /^orders\.dlq: 5 letters\n {2}step +reason +count\n {2}check +user-function +2\n/)
    const show = sluice('dlq', 'show', log, '--topic', 'orders.dlq', '--step', 'check', '-n', '1')
    assert.equal(show.code, 0, show.stderr)
    const shown = show.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(shown.map((l) => [l.step, l.record]), [['check', { id: 3, ts: 3000 }]])
    assert.equal(typeof shown[0].offset, 'number')

    const retry = join(dir, 'retry.jsonl')
    const r1 = sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', retry, '--step', 'check')
    assert.equal(r1.code, 0, r1.stderr)
    assert.match(r1.stdout, /^redrove 2 records from orders\.dlq/)
    const r2 = sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', retry, '--json')
    assert.deepEqual(JSON.parse(r2.stdout), { redriven: 3, skipped: 0, pending: 0, nextOffset: 5 })
    const r3 = sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', retry, '--json')
    assert.equal(JSON.parse(r3.stdout).redriven, 0)
    const redriven = (await readFile(retry, 'utf8')).trim().split('\n')
    assert.deepEqual([...redriven].sort(), ['not json', '{"id":3,"ts":3000}', '{"id":4}', '{"id":6,"ts":6000}', '{oops}'].sort())

    // A new target gets every letter again, once.
    const toLog = sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', 'log:orders-in', '--json')
    assert.equal(JSON.parse(toLog.stdout).redriven, 5, 'a new target gets the letters again')
    assert.equal(JSON.parse(sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', 'log:orders-in', '--json').stdout).redriven, 0)
    const other = join(dir, 'other.jsonl')
    assert.equal(JSON.parse(sluice('dlq', 'redrive', log, '--topic', 'orders.dlq', '--to', other, '--json').stdout).redriven, 5)

    // A folder without a log is said to hold none, and nothing is created there.
    const empty = join(dir, 'nolog')
    const none = sluice('dlq', 'list', empty)
    assert.equal(none.code, 3)
    assert.match(none.stderr, /SLUICE_DLQ_NO_LOG/)
    assert.equal(existsSync(empty), false)

    assert.equal(sluice('dlq', 'show', log).code, 2)
    const help = sluice('dlq', 'redrive', '--help')
    assert.equal(help.code, 0)
    assert.match(help.stdout, /redrive <dir> --topic t --to <file \| log:topic>/)

    // A second run appends to the same topic.
    assert.deepEqual(await runOnce(dir), [1, 2])
    assert.equal((await readDeadLetters(log, 'orders.dlq')).length, 10)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test("onError 'dead-letter' without a log folder is a user error", async () => {
  const p = pipeline('nodir', { onError: 'dead-letter' })
  p.from(source.collection([1])).to(sink.collect())
  await assert.rejects(run(p), /needs a log folder/)
})
