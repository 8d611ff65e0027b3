// The Kafka runner on several machines checkpointing into a bucket. Two `sluice worker` processes behave as two
// machines: each has its own temporary folder (so its own local copies and staging folders: nothing else of a
// worker's lies in a shared folder here; the job's state is in the bucket and Kafka) and its own counting proxy
// to the object store, so that every request is seen from the machine that made it. Each machine uploads the
// state files of its own subtasks and keeps copies of those only; killed with SIGKILL and restarted on the same
// machines, a restore downloads no file a machine has a copy of; killed again and restarted on fresh machines,
// every file comes from the bucket. The output is that of one process, exactly once. A savepoint into the bucket
// (`sluice savepoint ... s3://... --stop`) holds the state of both machines' subtasks, each uploaded by the
// machine that wrote it, and a job restored from it gives the rest of that output.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { readObjectSavepoint } from '../../src/checkpoint/object-savepoint.ts'
import { sha256 } from '../../src/checkpoint/storage.ts'
import { run } from '../../src/index.ts'
import { build } from './fixtures/window-join.ts'
import { serviceOrSkip } from '../support/services.ts'
import { bootstrap, broker } from './support.ts'
import { completeWithBoth, countingProxy, ends, events, folderOf, jobTopics, output, reference, stateFile, until, worker, write, type Worker } from './runner-support.ts'

const s3 = serviceOrSkip('s3')
const cli = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))

interface Machine {
  tmp: string
  proxy: Awaited<ReturnType<typeof countingProxy>>
}

/** Kills the workers still running, closes the machines' proxies, removes their folders and `dirs`. */
async function tearDown(workers: Worker[], machines: Machine[], dirs: string[]): Promise<void> {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
  for (const m of machines) {
    m.proxy.server.close()
    m.proxy.server.closeAllConnections()
    await rm(m.tmp, { recursive: true, force: true })
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}

/** The state files `chk-…/<file>` a request log names for `method`, from entry `from` on. */
const files = (seen: string[], method: string, from = 0): string[] => seen.slice(from).filter((l) => stateFile(l, method)).map((l) => `${folderOf(l)}/${l.slice(l.lastIndexOf('/') + 1)}`)

test('two workers as two machines checkpointing into a bucket, killed twice: each stores its own state files, restores use local copies, output exactly once', { skip: broker.skip ?? s3.skip, timeout: 1_200_000 }, async (t) => {
  const i = s3.info!
  const prefix = `runner-machines-${randomUUID()}`
  const dir = `s3://${String(i.bucket)}/${prefix}`
  const { input, out, ref, group, refDir } = await jobTopics('runner-machines')
  const machines: Machine[] = []
  const machine = async (): Promise<Machine> => {
    const m = { tmp: await mkdtemp(join(tmpdir(), 'sluice-machine-')), proxy: await countingProxy(String(i.endpoint)) }
    machines.push(m)
    return m
  }
  const env = (m: Machine): NodeJS.ProcessEnv => ({ ...process.env, TMPDIR: m.tmp, SLUICE_S3_ENDPOINT: m.proxy.endpoint, AWS_ACCESS_KEY_ID: String(i.accessKeyId), AWS_SECRET_ACCESS_KEY: String(i.secretAccessKey), AWS_REGION: String(i.region) })
  // The local copies of a machine, as ObjectCheckpointStorage names their folder: `chk-…/<file>`.
  const copies = async (m: Machine): Promise<string[]> => {
    const local = join(m.tmp, `sluice-local-recovery-${sha256(Buffer.from(dir)).slice(0, 12)}`)
    const all = await readdir(local, { recursive: true }).catch(() => [] as string[])
    return all.filter((f) => /^chk-\d+\/.+\.(state|delta)$/.test(f))
  }
  const workers: Worker[] = []
  // Both machines from the first run on: a run of one worker would checkpoint and then be restored from.
  const bounded = ['--param', 'bounded=true', '--param', 'pace=300', '--min-workers', '2']
  const start = (ms: Machine[]): Worker[] => {
    const ws = ms.map((m) => worker(input, out, group, dir, bounded, env(m)))
    workers.push(...ws)
    return ws
  }
  const kill = async (ws: Worker[]): Promise<void> => {
    for (const w of ws) w.proc.kill('SIGKILL')
    await Promise.all(ws.map((w) => w.exited))
  }
  const seen = (): string[] => machines.flatMap((m) => m.proxy.seen)
  // What each machine asked of the store during a phase (from entry `from` of its log on).
  const note = (phase: string, ms: Machine[], from: number[] = [0, 0]): void => {
    for (const [n, m] of ms.entries()) {
      const l = m.proxy.seen.slice(from[n])
      t.diagnostic(`${phase}, machine ${n}: ${l.length} requests, ${files(l, 'PUT').length} state files put, ${files(l, 'GET').length} got, ${l.filter((x) => x.startsWith('GET ') && x.endsWith('/manifest.json')).length} manifests got`)
    }
  }
  try {
    await write(input, [...events(0, 12000), ...ends()])
    const [a, b] = [await machine(), await machine()]

    // 1. Two machines: a checkpoint holding state of both subtasks, some output, then both killed.
    let ws = start([a, b])
    await until('a run of two workers', () => ws.some((w) => /thread 1 of 2/.test(w.log)), undefined, ws)
    await until('a complete checkpoint with state of both subtasks', () => completeWithBoth(seen()), undefined, ws)
    await until('output of the two', async () => (await output(out)).length > 0, undefined, ws)
    await kill(ws)
    note('first run', [a, b])
    const kept = [await copies(a), await copies(b)]
    for (const [n, m] of [a, b].entries()) {
      // Each machine uploaded state files, and keeps copies only of files it uploaded itself.
      const put = new Set(files(m.proxy.seen, 'PUT'))
      assert.ok(put.size > 0, `machine ${n} uploaded no state file`)
      assert.ok(kept[n].length > 0, `machine ${n} keeps no copy`)
      assert.deepEqual(kept[n].filter((f) => !put.has(f)), [], `machine ${n} keeps copies of files it did not upload`)
    }
    assert.deepEqual(kept[0].filter((f) => kept[1].includes(f)), [], 'no file is on both machines')
    assert.deepEqual(files(seen(), 'GET'), [], 'the first run read no state file')

    // 2. The same machines again: every state file a restore downloads is one its machine has no copy of.
    const marks = [a.proxy.seen.length, b.proxy.seen.length]
    ws = start([a, b])
    await until('a restore', () => ws.some((w) => /restored checkpoint \d+/.test(w.log)), undefined, ws)
    await until('a new complete checkpoint with state of both subtasks', () => completeWithBoth([...a.proxy.seen.slice(marks[0]), ...b.proxy.seen.slice(marks[1])]), undefined, ws)
    await kill(ws)
    note('same machines', [a, b], marks)
    const got = [files(a.proxy.seen, 'GET', marks[0]), files(b.proxy.seen, 'GET', marks[1])]
    assert.ok(got[0].length + got[1].length > 0, 'the files of the other machine came from the bucket')
    for (const n of [0, 1]) assert.deepEqual(got[n].filter((f) => kept[n].includes(f)), [], `machine ${n} downloaded files it has copies of`)

    // 3. Two fresh machines: every state file comes from the bucket; the job runs to its end.
    const [c, d] = [await machine(), await machine()]
    ws = start([c, d])
    const codes = await Promise.all(ws.map((w) => w.exited))
    note('fresh machines', [c, d])
    assert.deepEqual(codes, [0, 0], ws.map((w) => w.log).join('\n---\n'))
    const log = ws.map((w) => w.log).join('\n')
    assert.match(log, /restored checkpoint \d+/)
    assert.match(log, /the job has finished/)
    assert.ok(files(c.proxy.seen, 'GET').length + files(d.proxy.seen, 'GET').length > 0, 'the fresh machines read state files from the bucket')

    await reference(input, ref, refDir)
    assert.deepEqual(await output(out), await output(ref))
  } finally {
    await tearDown(workers, machines, [refDir])
  }
})

test('two workers as two machines, savepoint into the bucket with --stop: each machine uploads its own subtasks\' files, and a job restored from it finishes the output exactly once', { skip: broker.skip ?? s3.skip, timeout: 900_000 }, async () => {
  const i = s3.info!
  const id = randomUUID()
  const dir = `s3://${String(i.bucket)}/runner-savepoint-${id}/checkpoints`
  const target = `s3://${String(i.bucket)}/runner-savepoint-${id}/savepoints/v1`
  const { input, out, ref, group, refDir } = await jobTopics('runner-savepoint')
  const store = { SLUICE_S3_ENDPOINT: String(i.endpoint), AWS_ACCESS_KEY_ID: String(i.accessKeyId), AWS_SECRET_ACCESS_KEY: String(i.secretAccessKey), AWS_REGION: String(i.region) }
  const machines = await Promise.all([0, 1].map(async () => ({ tmp: await mkdtemp(join(tmpdir(), 'sluice-machine-')), proxy: await countingProxy(String(i.endpoint)) })))
  const rest = await mkdtemp(join(tmpdir(), 'sluice-savepoint-rest-'))
  let ws: Worker[] = []
  try {
    await write(input, [...events(0, 9000), ...ends()])
    ws = machines.map((m) => worker(input, out, group, dir, ['--param', 'bounded=true', '--param', 'pace=300', '--min-workers', '2'], { ...process.env, ...store, TMPDIR: m.tmp, SLUICE_S3_ENDPOINT: m.proxy.endpoint }))
    await until('a run of two workers', () => ws.some((w) => /thread 1 of 2/.test(w.log)), undefined, ws)
    await until('a complete checkpoint with state of both subtasks', () => completeWithBoth(machines.flatMap((m) => m.proxy.seen)), undefined, ws)
    const asked = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn(process.execPath, [cli, 'savepoint', dir, target, '--stop', '--timeout', '120s'], { env: { ...process.env, ...store }, stdio: ['ignore', 'pipe', 'pipe'] })
      let text = ''
      p.stdout.on('data', (d) => (text += d))
      p.stderr.on('data', (d) => (text += d))
      p.on('exit', (code) => resolve({ code, text }))
    })
    assert.equal(asked.code, 0, `${asked.text}\n${ws.map((w) => w.log.slice(-3000)).join('\n---\n')}`)
    assert.deepEqual(await Promise.all(ws.map((w) => w.exited)), [0, 0], ws.map((w) => w.log).join('\n---\n'))

    // Every state file is in the bucket with its checksum, and each machine put the files of the subtasks it ran.
    Object.assign(process.env, store)
    const saved = await readObjectSavepoint(target)
    const stateful = saved.manifest.operators.filter((o) => o.files.length > 0)
    assert.ok(stateful.some((o) => o.files.some((f) => f.subtask === 1)), 'the savepoint holds state of subtask 1')
    const puts = machines.map((m) => m.proxy.seen.filter((l) => l.startsWith('PUT ') && l.includes('/savepoints/v1/') && !l.endsWith('/manifest.json')).map((l) => l.slice(l.lastIndexOf('/') + 1)))
    assert.ok(puts[0].length > 0 && puts[1].length > 0, `each machine uploads state files of its own: ${JSON.stringify(puts)}`)
    assert.deepEqual(puts[0].filter((f) => puts[1].includes(f)), [], 'no file is uploaded by both machines')
    assert.deepEqual([...puts[0], ...puts[1]].sort(), stateful.flatMap((o) => o.files.map((f) => f.file)).sort(), 'the manifest lists exactly the files the machines uploaded')

    // A job restored from the savepoint (in one process) writes the rest: the output of one uninterrupted run.
    const s = await run(build(bootstrap(), input, out, true), { checkpoint: { dir: rest, intervalMs: 200, restoreFrom: target } })
    assert.equal(s.status, 'finished')
    await reference(input, ref, refDir)
    assert.deepEqual(await output(out), await output(ref))
  } finally {
    await tearDown(ws, machines, [rest, refDir])
  }
})
