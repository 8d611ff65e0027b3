// Failing pipelines over records that hold personal marker values: no byte Sluice prints (summary, errors,
// log lines) or exports (Prometheus metrics) may carry one, whatever the error policy.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipelineFromModule } from '../../src/api/pipeline-module.ts'
import { createLogger } from '../../src/observe/log/logger.ts'
import { logFinalMetrics, logJobEvents } from '../../src/runtime/job/job-log.ts'
import { PrometheusExposition } from '../../src/observe/prometheus/exposition.ts'
import { start } from '../../src/runtime/run.ts'
import { bin, root } from '../cli/sluice.ts'

const MARKER = 'PII7Q'
const fixture = join(root, 'test/observe/fixtures/leaky.ts')

/** Lines: good records, a payload JSON.parse quotes in its error, a line that does not parse; all with markers. */
function input(dir: string, malformedFirst: boolean): string {
  const person = (id: number, payload: string) => JSON.stringify({ id, email: `${MARKER}-mail-${id}@example.com`, payload, ts: 1_700_000_000_000 + id * 1000 })
  const lines = [person(1, '{"ok":1}'), person(2, `${MARKER}-payload-secret`), person(3, '{"ok":3}'), `{"id":4,"email":"${MARKER}-broken-line`, person(5, '{"ok":5}')]
  if (malformedFirst) lines.splice(1, 0, lines.splice(3, 1)[0])
  const file = join(dir, malformedFirst ? 'malformed-first.jsonl' : 'input.jsonl')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

const cases: { policy: string; malformedFirst: boolean }[] = [
  { policy: 'fail', malformedFirst: false },
  { policy: 'fail', malformedFirst: true },
  { policy: 'skip', malformedFirst: false },
  { policy: 'dead-letter', malformedFirst: false },
  { policy: 'error-output', malformedFirst: false },
]

test('the CLI prints no record contents: summary, errors and JSON logs', { timeout: 240_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pii-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  for (const c of cases) {
    const file = input(dir, c.malformedFirst)
    for (const extra of [[], ['--log', 'json']]) {
      const out = join(dir, `${c.policy}-${c.malformedFirst}-${extra.length}`)
      const args = [bin, 'run', fixture, '--no-check', '--param', `input=${file}`, '--param', `out=${out}`, '--param', `policy=${c.policy}`, '--batch-size', '1', ...extra]
      const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, SLUICE_DEBUG: '' } })
      const printed = r.stdout + r.stderr
      const what = `${c.policy}${c.malformedFirst ? ' (malformed line first)' : ''} ${extra.join(' ')}`
      assert.equal(r.status, c.policy === 'fail' ? 3 : 0, `${what}: ${printed}`)
      if (c.policy === 'fail') assert.match(printed, c.malformedFirst ? /SLUICE_BAD_JSON: step 'source-jsonl-1': not valid JSON .*:2/ : /SLUICE_USER_FUNCTION_FAILED: step 'parse-payload' failed on the record at .*:2: Unexpected token/, what)
      else assert.match(printed, /errors 2\b|"errors":1,.*"errors":1,/s, `${what}: both bad lines are counted`)
      assert.ok(!printed.includes(MARKER), `${what} printed a marker:\n${printed}`)
    }
  }
})

test('log lines and metrics of failing runs hold no record contents', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pii-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const mod = (await import(fixture)) as Record<string, unknown>
  for (const c of cases) {
    const file = input(dir, c.malformedFirst)
    const { pipeline: p } = await pipelineFromModule(mod, { input: file, out: join(dir, `mem-${c.policy}-${c.malformedFirst}`), policy: c.policy }, fixture)
    p.options.batchSize = 1 // records meet their failures in file order
    let logged = ''
    const log = createLogger({ pipeline: p.name, format: 'json', level: 'trace', destination: { write: (s: string) => void (logged += s) } })
    const job = start(p)
    logJobEvents(job, log)
    const failed = await job.done.then(() => false, (e: unknown) => {
      log.error({ err: e }, 'run failed')
      return true
    })
    assert.equal(failed, c.policy === 'fail', c.policy)
    logFinalMetrics(log, job.metrics())
    const metrics = await new PrometheusExposition({ deadLetters: c.policy === 'dead-letter' }).render(job.metrics())
    assert.match(metrics, /sluice_step_errors_total\{pipeline="leaky",step="(parse-payload|source-jsonl-1)"/)
    assert.match(logged, /"msg":"step totals"/)
    if (c.policy === 'fail') assert.match(logged, /"err":\{"type":"SluiceError","code":"SLUICE_/)
    assert.ok(!logged.includes(MARKER), `${c.policy}: a log line holds a marker:\n${logged}`)
    assert.ok(!metrics.includes(MARKER), `${c.policy}: a metric holds a marker`)
  }
})

test('a log call given a record writes [redacted] in its place', () => {
  let logged = ''
  const log = createLogger({ pipeline: 'p', format: 'json', destination: { write: (s: string) => void (logged += s) } })
  log.child({ step: 'enrich', subtask: 1 }).warn({ record: { email: `${MARKER}@x` }, value: MARKER, err: new Error(`bad input "${MARKER}"`) }, 'record failed')
  const line = JSON.parse(logged) as Record<string, unknown>
  assert.deepEqual([line.pipeline, line.step, line.subtask, line.record, line.value, line.level], ['p', 'enrich', 1, '[redacted]', '[redacted]', 'warn'])
  assert.deepEqual(line.err, { type: 'Error', message: 'bad input "…"' })
  assert.ok(!logged.includes(MARKER))
})
