import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { savepointCommand } from '../../cli/commands/savepoint.ts'
import { stopCommand } from '../../cli/commands/stop.ts'
import { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { FakeRunner } from './fake-runner.ts'
import { ControlRequestChannel } from './control-channel.ts'
import { createJob } from './handle.ts'

/** A job on a fake runner and a channel on a new folder; `before` writes requests before the channel looks. */
function setup(before?: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-file-control-'))
  if (before !== undefined) {
    mkdirSync(join(dir, 'control'))
    before(dir)
  }
  const { handle, control } = createJob('p', new MetricsRegistry({ pipeline: 'p' }))
  const runner = new FakeRunner(control)
  const warnings: string[] = []
  const channel = new ControlRequestChannel(handle, dir, { intervalMs: 10, warn: (m) => warnings.push(m) })
  return { dir, handle, runner, channel, warnings, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Writes a request the way `sluice savepoint` does (a temporary name, then a rename). */
function request(dir: string, name: string, body: string): string {
  const base = join(dir, 'control', name)
  writeFileSync(`${base}.tmp`, body)
  renameSync(`${base}.tmp`, `${base}.request`)
  return base
}

async function answerOf(base: string): Promise<{ outcome: 'done' | 'failed'; body: Record<string, unknown> }> {
  for (;;) {
    for (const outcome of ['done', 'failed'] as const) {
      if (existsSync(`${base}.${outcome}`)) return { outcome, body: JSON.parse(readFileSync(`${base}.${outcome}`, 'utf8')) }
    }
    await sleep(5)
  }
}

test('the control folder exists as soon as the channel does', async () => {
  using s = setup()
  assert.ok(existsSync(join(s.dir, 'control')))
  await s.channel.close()
})

test('`sluice savepoint --stop` is answered through the handle: the savepoint is written, then the job stops', async () => {
  using s = setup()
  const run = s.runner.run()
  s.runner.feed(4)
  let out = ''
  const stdout = new Writable({ write: (chunk, _e, cb) => ((out += String(chunk)), cb()) }) as unknown as NodeJS.WriteStream
  const code = await savepointCommand.run(
    { values: { stop: true }, positionals: [s.dir, join(s.dir, 'sp-1')] },
    { stdout, stderr: stdout, cwd: s.dir, env: {}, commands: [] },
  )
  assert.equal(code, 0)
  assert.match(out, /^savepoint 1 written to .*sp-1 \(0\.1 KiB\); the pipeline is stopping\n$/)
  const summary = await s.handle.done
  await run
  assert.equal(summary.status, 'stopped')
  await s.channel.close()
})

test('`sluice stop` is answered once the stop is under way; the job then stops with a last checkpoint', async () => {
  using s = setup()
  const run = s.runner.run()
  s.runner.feed(4)
  let out = ''
  const stdout = new Writable({ write: (chunk, _e, cb) => ((out += String(chunk)), cb()) }) as unknown as NodeJS.WriteStream
  const code = await stopCommand.run({ values: {}, positionals: [s.dir] }, { stdout, stderr: stdout, cwd: s.dir, env: {}, commands: [] })
  assert.equal(code, 0)
  assert.equal(out, 'the pipeline is stopping\n')
  const summary = await s.handle.done
  await run
  assert.equal(summary.status, 'stopped')
  assert.equal(s.runner.checkpoints.length, 1)
  await s.channel.close()
})

test('a checkpoint request is answered with the stats; a bad request as failed', async () => {
  using s = setup()
  const run = s.runner.run()
  const chk = request(s.dir, 'a-checkpoint', JSON.stringify({ checkpoint: true }))
  assert.deepEqual(await answerOf(chk), { outcome: 'done', body: { id: 1, bytes: 100, syncMs: 1, asyncMs: 2, alignmentMs: 0 } })
  assert.ok(existsSync(`${chk}.handled`) && !existsSync(`${chk}.request`))
  const bad = request(s.dir, 'b-bad', JSON.stringify({ target: 42 }))
  const answer = await answerOf(bad)
  assert.equal(answer.outcome, 'failed')
  assert.match(String(answer.body.error), /^bad request: the request names no target folder/)
  const notJson = request(s.dir, 'c-not-json', '{')
  assert.equal((await answerOf(notJson)).outcome, 'failed')
  s.runner.end()
  await run
  assert.deepEqual(s.warnings, [])
})

test('waiting requests are served one at a time, oldest name first', async () => {
  const names = ['c-savepoint', 'a-checkpoint', 'b-checkpoint']
  using s = setup((dir) => {
    request(dir, 'c-savepoint', JSON.stringify({ target: 'sp', stop: false }))
    request(dir, 'a-checkpoint', JSON.stringify({ checkpoint: true }))
    request(dir, 'b-checkpoint', JSON.stringify({ checkpoint: true }))
  })
  const run = s.runner.run()
  const answers = await Promise.all(names.map((n) => answerOf(join(s.dir, 'control', n))))
  assert.deepEqual(answers.map((a) => a.body.id), [3, 1, 2])
  assert.equal(answers[0].body.target, 'sp')
  s.runner.end()
  await run
})

test('the channel stops looking when the job ends; a later request waits for the next run', async () => {
  using s = setup()
  const run = s.runner.run()
  s.runner.end()
  await run
  await s.channel.close()
  const late = request(s.dir, 'late', JSON.stringify({ checkpoint: true }))
  await sleep(50)
  assert.ok(existsSync(`${late}.request`))
  // The next run's channel serves it.
  const { handle, control } = createJob('p', new MetricsRegistry({ pipeline: 'p' }))
  const next = new FakeRunner(control)
  const channel = new ControlRequestChannel(handle, s.dir, { intervalMs: 10 })
  const run2 = next.run()
  assert.equal((await answerOf(late)).outcome, 'done')
  next.end()
  await run2
  await channel.close()
})

test('a request the job refuses is answered with the reason', async () => {
  using s = setup()
  // Cancelled, and the runner has not yet ended: requests are refused, not left waiting.
  const cancelled = s.handle.cancel()
  const base = request(s.dir, 'after-cancel', JSON.stringify({ target: 'x' }))
  const answer = await answerOf(base)
  assert.equal(answer.outcome, 'failed')
  assert.match(String(answer.body.error), /is being cancelled/)
  await s.runner.run()
  await cancelled
  await s.channel.close()
})
