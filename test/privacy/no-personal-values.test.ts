// A pipeline that masks personal fields: no personal marker value may appear in its logs, errors, metrics,
// lineage, checkpoints or dead letters, and no key (data keys, the master key) in its manifests, logs,
// metrics or lineage; lineage marks the masked columns.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { pipelineFromModule } from '../../src/api/pipeline-module.ts'
import { createLogger } from '../../src/observe/log/logger.ts'
import { PrometheusExposition } from '../../src/observe/prometheus/exposition.ts'
import { logFinalMetrics, logJobEvents } from '../../src/runtime/job/job-log.ts'
import { start } from '../../src/runtime/run.ts'
import { formatSummary } from '../../src/runtime/summary.ts'
import { LocalKeyring } from '../../src/privacy/keys/local-keyring.ts'
import type { RunEvent } from '../../src/lineage/openlineage.ts'
import { bin, root } from '../cli/sluice.ts'

const MARKER = 'PII9Z'
const fixture = join(root, 'test/privacy/fixtures/masked-people.ts')

const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]))
const textUnder = (dir: string) => filesUnder(dir).map((f) => readFileSync(f, 'latin1')).join('\n')

/** Good people, a card too short for the user function, a broken line, an id that breaks the contract. */
function input(dir: string, name = 'people.jsonl'): string {
  const person = (id: number | string, card: string) => JSON.stringify({ id, email: `${MARKER}-mail-${id}@example.com`, card, birth: `${MARKER}-born-${id}` })
  const lines = [person(1, `${MARKER}-4111-1111-1001`), person(2, `${MARKER}`), `{"id":3,"email":"${MARKER}-broken`, person(4.5, `${MARKER}-4111-1111-1004`), person(5, `${MARKER}-4111-1111-1005`)]
  const file = join(dir, name)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Every form a key may be printed in: hex, base64, base64url; the data keys of the keyring and the master key. */
function secretsOf(keyring: string, master: Buffer): string[] {
  const ring = LocalKeyring.open(keyring, master)
  return [master, ...ring.list().map((k) => ring.byId(k.id).material)].flatMap((b) => [b.toString('hex'), b.toString('base64'), b.toString('base64url')])
}

function clean(what: string, text: string, secrets: readonly string[]): void {
  assert.ok(!text.includes(MARKER), `${what} holds a personal value`)
  for (const s of secrets) assert.ok(!text.includes(s), `${what} holds key material`)
}

test('after a pipeline that masks them, personal values appear in no log, error, metric, lineage event, checkpoint or dead letter, and keys in none; lineage marks the masked columns', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-no-pii-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const master = randomBytes(32)
  const saved = process.env.SLUICE_MASTER_KEY
  process.env.SLUICE_MASTER_KEY = master.toString('base64')
  t.after(() => (saved === undefined ? delete process.env.SLUICE_MASTER_KEY : (process.env.SLUICE_MASTER_KEY = saved)))
  const keyring = join(dir, 'keyring.json')
  const mod = (await import(fixture)) as Record<string, unknown>

  // dead letters: the run goes on past each bad record
  const out = join(dir, 'out')
  const lineage = join(dir, 'lineage.ndjson')
  const { pipeline: p } = await pipelineFromModule(mod, { input: input(dir), out, keyring, policy: 'dead-letter' }, fixture)
  p.options.batchSize = 1
  let logged = ''
  const log = createLogger({ pipeline: p.name, format: 'json', level: 'trace', destination: { write: (s: string) => void (logged += s) } })
  const job = start(p, { lineage, checkpoint: { dir: join(dir, 'chk'), intervalMs: 3_600_000 }, module: fixture })
  logJobEvents(job, log)
  const summary = await job.done
  logFinalMetrics(log, job.metrics())
  const metrics = await new PrometheusExposition({ deadLetters: true }).render(job.metrics())
  await new Promise((r) => setTimeout(r, 100)) // the last lineage event is appended after the end
  const secrets = secretsOf(keyring, master)

  assert.equal(summary.errors, 3, 'the three bad records are counted')
  const written = readFileSync(join(out, 'people.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>)
  assert.deepEqual(written.map((r) => r.id), [1, 5])
  assert.match(written[0].card, /^\*+1001$/)
  clean('the output', JSON.stringify(written), secrets)
  clean('the log', logged, secrets)
  assert.match(logged, /"msg":"step totals"/)
  clean('the metrics', metrics, secrets)
  assert.match(metrics, /sluice_step_errors_total\{pipeline="masked-people"/)
  clean('the summary', formatSummary(summary) + JSON.stringify(summary), secrets)
  clean('the checkpoints (manifests)', textUnder(join(dir, 'chk')), secrets)
  clean('the dead letters', textUnder(join(out, 'dlq')), secrets)
  const events = readFileSync(lineage, 'utf8')
  clean('the lineage', events, secrets)

  const done = events.trim().split('\n').map((l) => JSON.parse(l) as RunEvent).at(-1)!
  assert.equal(done.eventType, 'COMPLETE')
  const cl = done.outputs[0].facets?.columnLineage.fields as Record<string, { inputFields: { field: string; transformations: { masking: boolean; description?: string }[] }[] }>
  const masking = Object.fromEntries(Object.entries(cl).map(([f, c]) => [f, c.inputFields.map((i) => [i.field, i.transformations[0].masking])]))
  assert.deepEqual(masking, { id: [['id', false]], email: [['email', true]], card: [['card', true]], birth: [['birth', true]] })
  assert.match(String(cl.birth.inputFields[0].transformations[0].description), /^encrypt in step protect/)

  // fail: the first bad record ends the run with an error
  const failed = join(dir, 'failed.ndjson')
  const { pipeline: f } = await pipelineFromModule(mod, { input: input(dir, 'fail.jsonl'), out: join(dir, 'out-fail'), keyring, policy: 'fail' }, fixture)
  f.options.batchSize = 1
  let failLog = ''
  const flog = createLogger({ pipeline: f.name, format: 'json', level: 'trace', destination: { write: (s: string) => void (failLog += s) } })
  const fjob = start(f, { lineage: failed })
  logJobEvents(fjob, flog)
  const err = await fjob.done.then(() => undefined, (e: unknown) => e as Error & { code?: string; hint?: string })
  assert.equal(err?.code, 'SLUICE_USER_FUNCTION_FAILED')
  flog.error({ err }, 'run failed')
  await new Promise((r) => setTimeout(r, 100))
  clean('the error', `${String(err)} ${err?.message} ${err?.hint ?? ''} ${JSON.stringify(err)}`, secrets)
  clean('the log of the failed run', failLog, secrets)
  clean('the metrics of the failed run', await new PrometheusExposition({}).render(fjob.metrics()), secrets)
  const failEvents = readFileSync(failed, 'utf8')
  clean('the lineage of the failed run', failEvents, secrets)
  assert.match(failEvents, /"eventType":"FAIL"/)
})

test('sluice run of a masking pipeline prints no personal value and no key, with JSON logs and lineage', { timeout: 240_000 }, async (t) => {
  const { spawnSync } = await import('node:child_process')
  const dir = mkdtempSync(join(tmpdir(), 'sluice-no-pii-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const master = randomBytes(32)
  const keyring = join(dir, 'keyring.json')
  const file = input(dir)
  for (const [policy, status] of [['dead-letter', 0], ['fail', 3]] as const) {
    for (const extra of [[], ['--log', 'json']]) {
      const out = join(dir, `${policy}-${extra.length}`)
      const lineage = join(out, 'lineage.ndjson')
      const args = [bin, 'run', fixture, '--no-check', '--param', `input=${file}`, '--param', `out=${out}`, '--param', `keyring=${keyring}`, '--param', `policy=${policy}`, '--batch-size', '1', '--lineage', lineage, '--checkpoint-dir', join(out, 'chk'), ...extra]
      const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 200_000, env: { ...process.env, SLUICE_DEBUG: '', SLUICE_MASTER_KEY: master.toString('hex') } })
      const what = `${policy} ${extra.join(' ')}`
      assert.equal(r.status, status, `${what}: ${r.stdout}${r.stderr}`)
      const secrets = secretsOf(keyring, master)
      clean(`${what}: what sluice run printed`, r.stdout + r.stderr, secrets)
      const events = readFileSync(lineage, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as RunEvent).eventType)
      assert.deepEqual(events, ['START', status === 0 ? 'COMPLETE' : 'FAIL'], `${what}: sluice run --lineage <file> writes the run's events`)
      clean(`${what}: the lineage`, readFileSync(lineage, 'utf8'), secrets)
      clean(`${what}: the checkpoints`, textUnder(join(out, 'chk')), secrets)
    }
  }
  // --lineage console: the events are JSON lines on stderr (stdout carries the console sink)
  const out = join(dir, 'console')
  const r = spawnSync(process.execPath, [bin, 'run', fixture, '--no-check', '--quiet', '--param', `input=${file}`, '--param', `out=${out}`, '--param', `keyring=${keyring}`, '--lineage', 'console'], { cwd: root, encoding: 'utf8', timeout: 200_000, env: { ...process.env, SLUICE_DEBUG: '', SLUICE_MASTER_KEY: master.toString('base64') } })
  assert.equal(r.status, 0, r.stderr)
  const printed = r.stderr.split('\n').filter((l) => l.startsWith('{"eventType"')).map((l) => (JSON.parse(l) as RunEvent).eventType)
  assert.deepEqual(printed, ['START', 'COMPLETE'])
  clean('--lineage console', r.stdout + r.stderr, secretsOf(keyring, master))
})
