import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, root } from '../cli/sluice.ts'
import { outputs } from './crash.ts'

// Damaged checkpoints never turn into wrong output. The crash pipeline runs through the CLI with a checkpoint
// every 2,400 records (and a batch) at most and is killed by a failpoint after its third checkpoint; then a file of a
// checkpoint is flipped, truncated or deleted, and the pipeline is started again. It must either finish with
// exactly the output of an uninterrupted run, or refuse with a clear SLUICE_CHECKPOINT_* error having
// committed nothing twice and nothing that an uninterrupted run would not have written. Each killed run is
// made once and copied back into place (same paths: sinks' pending handles name their files) for each case.

const pipelineFile = 'test/checkpoint/fixtures/crash-pipeline.ts'

interface Run {
  code: number | null
  signal: string | null
  stderr: string
}

function runCli(out: string, chk: string, failpoint?: string, dlq = false, extra: string[] = []): Promise<Run> {
  return startCli(out, chk, failpoint, dlq, extra).done
}

function startCli(out: string, chk: string, failpoint?: string, dlq = false, extra: string[] = []): { child: ChildProcess; done: Promise<Run> } {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_DEBUG: '' }
  delete env.SLUICE_FAILPOINT
  if (failpoint !== undefined) env.SLUICE_FAILPOINT = failpoint
  // With dead letters, every record of user 3 fails: letters lie between any two checkpoints.
  const params = [`out=${out}`, 'every=2400', 'count=16000', ...(dlq ? [`dlq=${out}/dlq`, 'refuseAbove=-1'] : [])].flatMap((p) => ['--param', p])
  const args = [bin, 'run', pipelineFile, ...params, '--checkpoint-dir', chk, '--checkpoint-interval', '60ms', ...extra]
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] })
  return { child, done: settle(child) }
}

function settle(child: ChildProcess): Promise<Run> {
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const guard = setTimeout(() => child.kill('SIGKILL'), 180_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stderr })
    })
  })
}

const references = new Map<boolean, Record<string, string[]>>()
async function referenceOutput(dlq: boolean): Promise<Record<string, string[]>> {
  const known = references.get(dlq)
  if (known !== undefined) return known
  await withTemp('ref', async (base) => {
    const r = await runCli(join(base, 'out'), join(base, 'chk'), undefined, dlq)
    assert.equal(r.code, 0, r.stderr)
    references.set(dlq, await outputs(join(base, 'out')))
  })
  if (dlq) assert.ok((references.get(dlq)!.deadLetters ?? []).length > 0, 'the reference run wrote no dead letters')
  return references.get(dlq)!
}

const killedRuns = new Map<string, string>()
process.on('exit', () => {
  for (const base of killedRuns.values()) rmSync(base, { recursive: true, force: true })
})

/**
 * The output and checkpoint folders of a run killed at `failpoint` (made once), copied into `base`, where a
 * copy of the same paths is kept. Returns `base/out` and `base/chk`.
 */
async function killedRun(failpoint: string, dlq: boolean): Promise<{ out: string; chk: string; restart: (extra?: string[]) => Promise<Run> }> {
  const key = `${failpoint}${dlq ? '+dlq' : ''}`
  let base = killedRuns.get(key)
  if (base === undefined) {
    base = await mkdtemp(join(tmpdir(), 'sluice-corrupt-killed-'))
    killedRuns.set(key, base)
    const first = await runCli(join(base, 'out'), join(base, 'chk'), failpoint, dlq)
    assert.equal(first.signal, 'SIGKILL', `the failpoint did not stop the run: ${first.stderr}`)
    assert.ok(existsSync(folder(join(base, 'chk'), 3)), 'the third checkpoint is in place')
    await cp(join(base, 'out'), join(base, 'pristine-out'), { recursive: true })
    await cp(join(base, 'chk'), join(base, 'pristine-chk'), { recursive: true })
  } else {
    for (const f of ['out', 'chk']) {
      await rm(join(base, f), { recursive: true, force: true })
      await cp(join(base, `pristine-${f}`), join(base, f), { recursive: true })
    }
  }
  const out = join(base, 'out')
  const chk = join(base, 'chk')
  return { out, chk, restart: (extra: string[] = []) => runCli(out, chk, undefined, dlq, extra) }
}

async function withTemp(name: string, fn: (base: string) => Promise<void>): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), `sluice-corrupt-${name}-`))
  try {
    await fn(base)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}

const folder = (chk: string, id: number) => join(chk, `chk-${String(id).padStart(8, '0')}`)

async function stateFile(chk: string, id: number): Promise<string> {
  const names = (await readdir(folder(chk, id))).filter((n) => n.endsWith('.state')).sort()
  assert.ok(names.length > 0, `checkpoint ${id} has no state file`)
  return join(folder(chk, id), names[0])
}

async function edit(path: string, fn: (text: string) => string): Promise<void> {
  const before = await readFile(path, 'utf8')
  const after = fn(before)
  assert.notEqual(after, before, `the damage changed nothing in ${path}`)
  await writeFile(path, after)
}

/** Flips the bits of the byte in the middle of a file. */
async function flipByte(path: string): Promise<void> {
  const data = await readFile(path)
  data[data.length >> 1] ^= 0xff
  await writeFile(path, data)
}

const damages: Record<string, (chk: string, id: number) => Promise<void>> = {
  'a flipped digit in a source position of the manifest': (chk, id) => edit(join(folder(chk, id), 'manifest.json'), (t) => t.replace(/("positions": \[\s*)(\d)/, (_m, a: string, d: string) => a + String((Number(d) + 1) % 10))),
  'a flipped byte in a key of the manifest': (chk, id) => edit(join(folder(chk, id), 'manifest.json'), (t) => t.replace('"positions"', '"positionz"')),
  'a truncated manifest': (chk, id) => edit(join(folder(chk, id), 'manifest.json'), (t) => t.slice(0, t.length >> 1)),
  'a deleted manifest': (chk, id) => rm(join(folder(chk, id), 'manifest.json')),
  'a flipped byte in a state file': async (chk, id) => flipByte(await stateFile(chk, id)),
  'a truncated state file': async (chk, id) => truncate(await stateFile(chk, id), 10),
  'a deleted state file': async (chk, id) => rm(await stateFile(chk, id)),
}

/** Exactly the reference; or a refusal naming a checkpoint error, with nothing written twice or out of thin air. */
async function assertExactOrRefused(r: Run, out: string, dlq = false): Promise<'exact' | 'refused'> {
  const expected = await referenceOutput(dlq)
  const got = await outputs(out)
  if (r.code === 0) {
    for (const s of Object.keys(expected)) {
      const count = new Map<string, number>()
      for (const l of expected[s]) count.set(l, (count.get(l) ?? 0) + 1)
      for (const l of got[s] ?? []) count.set(l, (count.get(l) ?? 0) - 1)
      const missing = [...count.values()].filter((n) => n > 0).reduce((a, n) => a + n, 0)
      const extra = [...count.values()].filter((n) => n < 0).reduce((a, n) => a - n, 0)
      assert.ok(missing === 0 && extra === 0, `sink '${s}' after a restart that went on (exit 0): ${missing} lines missing, ${extra} extra`)
    }
    return 'exact'
  }
  assert.equal(r.signal, null, `the restart was killed: ${r.stderr}`)
  assert.match(r.stderr, /SLUICE_CHECKPOINT_\w+/, 'a refusal names the checkpoint problem')
  for (const s of Object.keys(expected)) {
    const left = new Map<string, number>()
    for (const l of expected[s]) left.set(l, (left.get(l) ?? 0) + 1)
    for (const l of got[s] ?? []) {
      const n = left.get(l) ?? 0
      assert.ok(n > 0, `sink '${s}' holds a line twice or one an uninterrupted run does not write: ${l.slice(0, 80)}`)
      left.set(l, n - 1)
    }
  }
  return 'refused'
}

/** Damages a run killed at `failpoint` after its third checkpoint, and restarts it. */
async function damageAndRestart(failpoint: string, damage: (chk: string) => Promise<void>, dlq = false, extra: string[] = []): Promise<{ r: Run; out: string }> {
  const { out, chk, restart } = await killedRun(failpoint, dlq)
  await damage(chk)
  return { r: await restart(extra), out }
}

/** A refusal to fall back that names the dead-letter topic and both ways on. */
function assertFallbackRefused(r: Run): void {
  assert.notEqual(r.code, 0, 'the restart went on')
  assert.match(r.stderr, /SLUICE_CHECKPOINT_FALLBACK_REFUSED/)
  assert.match(r.stderr, /dead-letter topic 'crash-recovery\.dlq' \(\d+ letters?\)/)
  assert.match(r.stderr, /--restore-from/)
  assert.match(r.stderr, /--accept-duplicates/)
}

/** Every sink exact but the dead letters, which hold each expected letter, some twice: what --accept-duplicates accepts. */
async function assertExactButDuplicatedLetters(r: Run, out: string): Promise<void> {
  assert.equal(r.code, 0, r.stderr)
  const expected = await referenceOutput(true)
  const got = await outputs(out)
  for (const s of Object.keys(expected)) {
    const count = new Map<string, number>()
    for (const l of expected[s]) count.set(l, (count.get(l) ?? 0) + 1)
    for (const l of got[s] ?? []) count.set(l, (count.get(l) ?? 0) - 1)
    const missing = [...count.values()].filter((n) => n > 0).length
    const extra = [...count.values()].filter((n) => n < 0).reduce((a, n) => a - n, 0)
    assert.equal(missing, 0, `sink '${s}': lines missing`)
    if (s === 'deadLetters') assert.ok(extra > 0, 'the letters the skipped checkpoint committed are written again')
    else assert.equal(extra, 0, `sink '${s}': lines written twice`)
  }
  assert.match(r.stderr, /--accept-duplicates\): dead-letter topic 'crash-recovery\.dlq' \(\d+ letters?\) holds output committed after/)
}

// The newest checkpoint's output is committed (killed after its commits). Part-file sinks fall back cleanly:
// a restore removes parts committed after the checkpoint restored, and the replay writes them again.
for (const [name, damage] of Object.entries(damages)) {
  test(`${name} of a committed checkpoint: the restart falls back, and the output is exact`, async () => {
    const { r, out } = await damageAndRestart('checkpoint-after-commit:3', (chk) => damage(chk, 3))
    assert.equal(await assertExactOrRefused(r, out), 'exact')
    assert.match(r.stderr, /checkpoint 3 in .* is unreadable and skipped/)
  })
}

// Dead letters committed by the skipped checkpoint are in the log already, and readers may have seen them: a
// fallback would append them again. The restart refuses, naming the choices; with --accept-duplicates it goes on.
for (const name of ['a flipped digit in a source position of the manifest', 'a flipped byte in a state file']) {
  test(`${name} of a committed checkpoint, with dead letters: a refusal naming the choices`, async () => {
    const { r, out } = await damageAndRestart('checkpoint-after-commit:3', (chk) => damages[name](chk, 3), true)
    assert.equal(await assertExactOrRefused(r, out, true), 'refused')
    assertFallbackRefused(r)
  })
}

test('a damaged committed checkpoint, with dead letters and --accept-duplicates: the restart falls back, only letters repeat', async () => {
  const { r, out } = await damageAndRestart('checkpoint-after-commit:3', (chk) => damages['a flipped byte in a state file'](chk, 3), true, ['--accept-duplicates'])
  await assertExactButDuplicatedLetters(r, out)
})

// Killed between writing the third checkpoint and committing it: nothing of it is committed, so falling back to
// the second replays nothing twice, dead letters included.
for (const name of ['a flipped digit in a source position of the manifest', 'a deleted state file']) {
  test(`${name} of a checkpoint not yet committed, with dead letters: the restart falls back, and the output is exact`, async () => {
    const { r, out } = await damageAndRestart('checkpoint-before-commit:3', (chk) => damages[name](chk, 3), true)
    assert.equal(await assertExactOrRefused(r, out, true), 'exact')
    assert.match(r.stderr, /checkpoint 3 in .* is unreadable and skipped/)
  })
}

test('damage to older checkpoints that the newest does not build on changes nothing', async () => {
  const { r, out } = await damageAndRestart('checkpoint-after-commit:3', async (chk) => {
    await flipByte(await stateFile(chk, 1))
    await damages['a truncated manifest'](chk, 2)
  })
  assert.equal(await assertExactOrRefused(r, out), 'exact')
  assert.doesNotMatch(r.stderr, /skipped/)
})

test('every checkpoint unreadable: the job says so plainly, starts from scratch, and the output is exact', async () => {
  const { r, out } = await damageAndRestart('checkpoint-after-commit:3', async (chk) => {
    for (const id of [1, 2, 3]) await damages['a truncated manifest'](chk, id)
  })
  assert.match(r.stderr, /no checkpoint in .* reads back whole: 3 skipped/)
  assert.match(r.stderr, /starting from scratch: every checkpoint in .* is damaged \(3, 2, 1\)/)
  assert.equal(await assertExactOrRefused(r, out), 'exact')
})

test('every checkpoint unreadable, with dead letters: a refusal that says so plainly', async () => {
  const { r, out } = await damageAndRestart('checkpoint-after-commit:3', async (chk) => {
    for (const id of [1, 2, 3]) await damages['a truncated manifest'](chk, id)
  }, true)
  assert.equal(await assertExactOrRefused(r, out, true), 'refused')
  assertFallbackRefused(r)
  assert.match(r.stderr, /no checkpoint in .* reads back whole: 3 skipped/)
  assert.match(r.stderr, /starting from scratch would duplicate output/)
})

test('a second run on a checkpoint folder in use is refused naming the holder; the first finishes exactly', async () => {
  await withTemp('lock', async (base) => {
    const out = join(base, 'out')
    const chk = join(base, 'chk')
    const first = startCli(out, chk)
    while (!existsSync(folder(chk, 1))) await new Promise((r) => setTimeout(r, 20))
    // Paused (alive, holding the folder) while the second starts, however long that takes on a busy machine.
    first.child.kill('SIGSTOP')
    // The same command again: same output folder too, which it must leave alone.
    const second = await runCli(out, chk)
    first.child.kill('SIGCONT')
    assert.notEqual(second.code, 0)
    assert.match(second.stderr, new RegExp(`SLUICE_CHECKPOINT_LOCKED.*checkpoint folder '.*chk' is in use by process ${first.child.pid}`))
    const r = await first.done
    assert.equal(await assertExactOrRefused(r, out), 'exact', r.stderr)
  })
})
