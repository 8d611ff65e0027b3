import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import { bin, root, sluice } from './sluice.ts'

const fixture = 'test/cli/fixtures/checkpointed.ts'

async function lines(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const f of await committedParts(dir)) out.push(...(await readFile(f, 'utf8')).split('\n').filter(Boolean))
  return out.sort()
}

test('checkpoint flags without --checkpoint-dir are a usage error', () => {
  const r = sluice(['run', fixture, '--param', 'out=x', '--checkpoint-interval', '1s'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--checkpoint-interval needs --checkpoint-dir/)
  const full = sluice(['run', fixture, '--param', 'out=x', '--full-checkpoints'])
  assert.equal(full.code, 2)
  assert.match(full.stderr, /--full-checkpoints needs --checkpoint-dir/)
  const bad = sluice(['run', fixture, '--param', 'out=x', '--checkpoint-dir', 'x', '--checkpoint-interval', 'soon'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /invalid duration 'soon'/)
})

// --no-check: these runs are about checkpoints, and a first type check on a loaded machine would eat into
// the time the job is given. The job that is stopped midway gets 40 s of input (the savepoint or stop command,
// itself a process that may take many seconds to start on a loaded machine, must reach it while it runs); the
// runs that resume or compare go at full speed: the output does not depend on the rate.
const longer = ['--param', 'count=400000']
const slow = ['--param', 'rate=10000']

/** Starts the slow job that a test stops midway, and resolves once its first checkpoint exists. */
async function startSlowJob(out: string, chk: string): Promise<{ exited: Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(process.execPath, [bin, 'run', fixture, '--no-check', ...longer, ...slow, '--param', `out=${out}`, '--checkpoint-dir', chk, '--checkpoint-interval', '200ms'], { cwd: root })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const guard = setTimeout(() => child.kill('SIGKILL'), 180_000)
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard)
      resolve({ code, stderr })
    }),
  )
  while (!existsSync(join(chk, 'chk-00000001'))) await new Promise((r) => setTimeout(r, 50))
  return { exited }
}
test('savepoint --stop stops a running pipeline; resuming from the savepoint completes the output exactly', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-cli-sp-'))
  try {
    const out = join(base, 'out')
    const chk = join(base, 'chk')
    const sp = join(base, 'savepoint')
    const job = await startSlowJob(out, chk)
    const s = sluice(['savepoint', chk, sp, '--stop'])
    assert.equal(s.code, 0, s.stderr)
    assert.match(s.stdout, /savepoint \d+ written/)
    const { code, stderr } = await job.exited
    assert.equal(code, 0, stderr)
    assert.match(stderr, /pipeline 'checkpointed' stopped/)
    const partial = await lines(out)

    const resumed = sluice(['run', fixture, '--no-check', ...longer, '--param', 'rate=1000000', '--param', `out=${out}`, '--checkpoint-dir', join(base, 'chk2'), '--restore-from', sp])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stderr, /resumed from #\d+/)
    const straight = sluice(['run', fixture, '--no-check', ...longer, '--param', 'rate=1000000', '--param', `out=${join(base, 'straight')}`, '--checkpoint-dir', join(base, 'chk3'), '--checkpoint-interval', '0'])
    assert.equal(straight.code, 0, straight.stderr)
    const all = await lines(out)
    assert.ok(partial.length > 0 && partial.length < all.length, 'the savepoint was not taken midway')
    assert.deepEqual(all, await lines(join(base, 'straight')))
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

test('sluice stop stops a running pipeline gracefully: a last checkpoint, exit code 0, and a restart resumes', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-cli-stop-'))
  try {
    const out = join(base, 'out')
    const chk = join(base, 'chk')
    const job = await startSlowJob(out, chk)
    const s = sluice(['stop', chk])
    assert.equal(s.code, 0, s.stderr)
    assert.equal(s.stdout, 'the pipeline is stopping\n')
    const { code, stderr } = await job.exited
    assert.equal(code, 0, stderr)
    assert.match(stderr, /pipeline 'checkpointed' stopped/)
    const partial = await lines(out)
    const resumed = sluice(['run', fixture, '--no-check', ...longer, '--param', 'rate=1000000', '--param', `out=${out}`, '--checkpoint-dir', chk])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stderr, /resumed from #\d+/)
    assert.ok(partial.length > 0 && partial.length < (await lines(out)).length, 'the stop did not come midway')
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})
