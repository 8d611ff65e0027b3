import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { root, sluice, sluiceLive } from './sluice.ts'
import { formatDuration, formatProgress } from '../../src/cli/progress-line.ts'

const fixture = (name: string) => `test/cli/fixtures/${name}.ts`

test('--help on every command shows usage, flags and an example', () => {
  for (const cmd of ['run', 'describe', 'help', 'version']) {
    const r = sluice([cmd, '--help'])
    assert.equal(r.code, 0, cmd)
    assert.match(r.stdout, new RegExp(`^Usage: sluice ${cmd}`), cmd)
    assert.match(r.stdout, /\nFlags:\n/, cmd)
    assert.match(r.stdout, /\nExamples?:\n {2}sluice /, cmd)
    assert.equal(sluice(['help', cmd]).stdout, r.stdout, `sluice help ${cmd}`)
  }
})

test('sluice --help lists the commands', () => {
  const r = sluice(['--help'])
  assert.equal(r.code, 0)
  for (const cmd of ['run', 'describe', 'help', 'version']) assert.match(r.stdout, new RegExp(`\\n {2}${cmd} +\\S`))
})

test('run --help documents the exit codes', () => {
  const r = sluice(['run', '--help'])
  for (const code of ['0', '1', '2', '3', '130']) assert.match(r.stdout, new RegExp(`\\n {2}${code} +\\S`))
})

test('--version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }
  const r = sluice(['--version'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, new RegExp(`^sluice ${version.replaceAll('.', '\\.')} `))
})

test('usage errors exit with 2 and point at --help', () => {
  const cases: [string[], RegExp][] = [
    [['run', '--bogus', fixture('factory')], /unknown option '--bogus'/],
    [['run'], /missing the pipeline file/],
    [['run', 'a.ts', 'b.ts'], /unexpected argument 'b\.ts'/],
    [['run', fixture('factory'), '--parallelism', 'two'], /--parallelism must be a positive integer, got 'two'/],
    [['run', fixture('factory'), '--batch-size', '0'], /--batch-size must be a positive integer/],
    [['run', fixture('factory'), '--param', 'novalue'], /--param needs key=value, got 'novalue'/],
    [['describe', '--nope', fixture('factory')], /unknown option '--nope'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--frobnicate'], /unknown flag '--frobnicate'/],
    [[], /Usage: sluice <command>/],
  ]
  for (const [args, message] of cases) {
    const r = sluice(args)
    assert.equal(r.code, 2, args.join(' '))
    assert.match(r.stderr, message, args.join(' '))
    assert.equal(r.stdout, '', args.join(' '))
  }
})

test('a missing pipeline file is a user error naming the file', () => {
  const r = sluice(['run', 'no/such/pipeline.ts'])
  assert.equal(r.code, 3)
  assert.match(r.stderr, /SLUICE_PIPELINE_NOT_FOUND: pipeline file 'no\/such\/pipeline\.ts' does not exist/)
})

test('a module without a pipeline as default export is a user error naming the file', () => {
  const bad = sluice(['run', fixture('bad-export')])
  assert.equal(bad.code, 3)
  assert.match(bad.stderr, /SLUICE_BAD_DEFAULT_EXPORT: 'test\/cli\/fixtures\/bad-export\.ts' does not define a pipeline: its default export is a number/)
  const none = sluice(['describe', fixture('no-default')])
  assert.equal(none.code, 3)
  assert.match(none.stderr, /SLUICE_NO_DEFAULT_EXPORT: 'test\/cli\/fixtures\/no-default\.ts' has no default export/)
})

test('a throw while building the pipeline is a user error naming the file, without a stack trace', () => {
  const r = sluice(['run', fixture('build-throws')])
  assert.equal(r.code, 3)
  assert.match(r.stderr, /building the pipeline in 'test\/cli\/fixtures\/build-throws\.ts' failed: missing --param input=<file>/)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('a record failing under the fail policy exits with 3 and names the step and position', () => {
  const r = sluice(['run', fixture('fails')])
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^error SLUICE_USER_FUNCTION_FAILED: step 'divide' failed on the record at 2: .*division by zero/)
  assert.match(r.stderr, /hint: /)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
})

test('SLUICE_DEBUG=1 adds the stack trace', () => {
  const r = sluice(['run', fixture('fails')])
  assert.doesNotMatch(r.stderr, /caused by:/)
  const withDebug = sluice(['run', fixture('fails')], { env: { SLUICE_DEBUG: '1' } })
  assert.equal(withDebug.code, 3)
  assert.match(withDebug.stderr, /caused by: Error: division by zero\n\s+at /)
})

test('--param values reach a pipeline factory; stdout holds only sink output', () => {
  const r = sluice(['run', fixture('factory'), '--param', 'a=1', '--param', 'b=x=y'])
  assert.equal(r.code, 0)
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    { key: 'a', value: '1' },
    { key: 'b', value: 'x=y' },
  ])
  assert.match(r.stderr, /^pipeline 'params' finished in /)
})

test('--json prints the run summary as one JSON line on stdout', () => {
  const r = sluice(['run', fixture('factory'), '--param', 'a=1', '--json'])
  assert.equal(r.code, 0)
  const lines = r.stdout.trim().split('\n')
  assert.equal(lines.length, 2)
  assert.deepEqual(JSON.parse(lines[0]), { key: 'a', value: '1' })
  const s = JSON.parse(lines[1]) as { pipeline: string; status: string; recordsIn: number; watermark: unknown; steps: { step: string; in: number }[] }
  assert.equal(s.pipeline, 'params')
  assert.equal(s.status, 'finished')
  assert.equal(s.recordsIn, 1)
  assert.equal(s.watermark, '+inf')
  assert.deepEqual(s.steps.map((m) => [m.step, m.in]), [['source-collection-1', 1], ['sink-console-1', 1]])
  assert.equal(r.stderr, '')
})

test('--quiet prints no summary', () => {
  const r = sluice(['run', fixture('factory'), '--param', 'a=1', '--quiet'])
  assert.equal(r.code, 0)
  assert.equal(r.stderr, '')
})

test('describe prints the steps, their kinds, inputs and configs', () => {
  const r = sluice(['describe', fixture('fails')])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /^pipeline 'fails' +\(3 steps, onError 'fail', batchSize 1024\)/)
  assert.match(r.stdout, /\nsource-collection-1 +source-collection\n +source: \{"kind":"collection","records":4,"partitions":1\}/)
  assert.match(r.stdout, /\ndivide +map +<- source-collection-1\n/)
  assert.match(r.stdout, /\nsink-console-1 +sink-console +<- divide\n/)
  const j = sluice(['describe', fixture('fails'), '--json'])
  const plan = JSON.parse(j.stdout) as { name: string; steps: { id: string; kind: string }[] }
  assert.deepEqual(plan.steps.map((s) => `${s.id}:${s.kind}`), ['source-collection-1:source-collection', 'divide:map', 'sink-console-1:sink-console'])
})

test('parallelism that the runtime refuses is reported, not a crash', () => {
  const r = sluice(['run', fixture('factory'), '--param', 'a=1', '--parallelism', '2'])
  if (r.code === 0) return // parallel execution is available
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^error SLUICE_/)
})

test('SIGINT stops an unbounded pipeline gracefully: the summary, and exit code 130 as after any Ctrl-C', async () => {
  let sent = false
  const r = await sluiceLive(['run', fixture('unbounded')], (out, signal) => {
    if (!sent && out.stdout.includes('\n')) {
      sent = true
      signal('SIGINT')
    }
  })
  assert.equal(sent, true)
  assert.equal(r.code, 130)
  assert.match(r.stderr, /stopping… \(press Ctrl-C again to force\)\n/)
  assert.match(r.stderr, /pipeline 'unbounded' stopped in /)
  // Every line on stdout is a whole record: the sink flushed before exit.
  for (const line of r.stdout.trim().split('\n')) assert.equal(typeof (JSON.parse(line) as { n: number }).n, 'number')
})

test('SIGTERM stops gracefully too, with exit code 143', async () => {
  let sent = false
  const r = await sluiceLive(['run', fixture('unbounded'), '--json'], (out, signal) => {
    if (!sent && out.stdout.includes('\n')) {
      sent = true
      signal('SIGTERM')
    }
  })
  assert.equal(r.code, 143)
  const last = r.stdout.trim().split('\n').at(-1)!
  assert.equal((JSON.parse(last) as { status: string }).status, 'stopped')
})

test('a second SIGINT forces exit with 130', async () => {
  let sent = 0
  const r = await sluiceLive(['run', fixture('stuck-sink')], (out, signal) => {
    if (sent === 0 && out.stdout.includes('records\n')) {
      sent = 1
      signal('SIGINT')
    } else if (sent === 1 && out.stderr.includes('stopping…')) {
      sent = 2
      signal('SIGINT')
    }
  })
  assert.equal(sent, 2)
  assert.equal(r.code, 130)
  assert.match(r.stderr, /forced exit/)
})

test('progress line and durations read well', () => {
  assert.equal(formatDuration(850), '850ms')
  assert.equal(formatDuration(4210), '4.2s')
  assert.equal(formatDuration(192_000), '3m12s')
  assert.equal(formatDuration(5 * 3_600_000 + 7 * 60_000), '5h07m')
  assert.equal(formatDuration(3 * 86_400_000 + 2 * 3_600_000), '3d2h')
  assert.equal(
    formatProgress({ recordsIn: 12345, recordsThisRun: 12345, recordsPerSecond: 4210.4, watermark: Date.UTC(2024, 4, 1, 10, 0, 5), lagMs: 2500, elapsedMs: 3000 }),
    'records in 12,345  4,210/s  watermark 2024-05-01T10:00:05.000Z  lag 2.5s  (3.0s)',
  )
  assert.match(formatProgress({ recordsIn: 0, recordsThisRun: 0, recordsPerSecond: 0, watermark: -Infinity, lagMs: NaN, elapsedMs: 10 }), /watermark none yet {2}lag -/)
})

test('on historical data the progress line shows the event time covered and its speed, not a lag of months', () => {
  const wm = Date.UTC(2024, 4, 1, 10, 0, 0)
  const p = { recordsIn: 1000, recordsThisRun: 1000, recordsPerSecond: 500, watermark: wm, lagMs: 335 * 86_400_000, elapsedMs: 2000 }
  assert.equal(formatProgress(p, { watermark: wm - 3_600_000, elapsedMs: 1000 }), 'records in 1,000  500/s  watermark 2024-05-01T10:00:00.000Z  event time +1h00m (3,600x real time)  (2.0s)')
  assert.match(formatProgress(p), /  historical data  /)
})

test("a bounded file source shows percent done and an ETA at this run's pace; a resumed run what it read now and in all", () => {
  const wm = Date.UTC(2024, 4, 1, 10, 0, 0)
  const p = { recordsIn: 3000, recordsThisRun: 1000, recordsPerSecond: 500, watermark: wm, lagMs: 1000, elapsedMs: 2000, input: { done: 600, total: 1000, before: 400 } }
  // 200 bytes in 2 s: the 400 left take 4 s.
  assert.equal(formatProgress(p), 'records in 1,000 this run, 3,000 in total  500/s  60% done, ETA 4.0s  watermark 2024-05-01T10:00:00.000Z  lag 1.0s  (2.0s)')
  assert.match(formatProgress({ ...p, recordsIn: 1000, input: { done: 0, total: 1000, before: 0 } }), /^records in 1,000  500\/s  0% done, ETA -  watermark/)
  assert.match(formatProgress({ ...p, input: { done: 1000, total: 1000, before: 400 } }), /  100% done  watermark/)
  assert.doesNotMatch(formatProgress({ ...p, input: undefined }), /done/)
})

