// What the `--runner kafka` tests and the soak script share: the window-join job's input written in phases,
// workers started as `sluice worker` processes, the output read with read_committed, and the same pipeline
// run in one process for the expected output.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run } from '../../src/index.ts'
import type { Event } from './fixtures/window-join.ts'
import { build } from './fixtures/window-join.ts'
import { bootstrap, createTopic, producer, readAll, topicName } from './support.ts'

export const PARTITIONS = 3
export const KEYS = 13
const fixture = fileURLToPath(new URL('./fixtures/window-join.ts', import.meta.url))
const cli = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))

/** Events `from` to `to` (exclusive): event i goes to partition i mod 3 with time i, so times grow per partition. */
export function events(from: number, to: number): { partition: number; value: string }[] {
  const out: { partition: number; value: string }[] = []
  for (let i = from; i < to; i++) {
    const e: Event = { kind: i % 2 === 0 ? 'order' : 'pay', k: `k${(i * 7) % KEYS}`, n: i, ts: i }
    out.push({ partition: i % PARTITIONS, value: JSON.stringify(e) })
  }
  return out
}

/** One event of kind 'end' per partition, far in the future: every window fires. */
export function ends(): { partition: number; value: string }[] {
  return Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: JSON.stringify({ kind: 'end', k: 'end', n: -1, ts: 1e12 } satisfies Event) }))
}

export async function write(topic: string, messages: { partition: number; value: string }[]): Promise<void> {
  const p = await producer({ idempotent: true })
  try {
    for (let i = 0; i < messages.length; i += 1000) await p.send({ topic, messages: messages.slice(i, i + 1000) })
  } finally {
    await p.disconnect()
  }
}

export async function topics(input: string, output: string): Promise<void> {
  await createTopic(input, PARTITIONS)
  await createTopic(output, 2)
}

/**
 * A fresh run of the window-join job named `name`: its input and output topics, the output topic of the
 * one-process reference run, the workers' group, all created, and a folder for the reference run's checkpoints.
 */
export async function jobTopics(name: string): Promise<{ input: string; out: string; ref: string; group: string; refDir: string }> {
  const input = topicName(`${name}-in`)
  const out = topicName(`${name}-out`)
  const ref = topicName(`${name}-ref`)
  const group = topicName(`${name}-job`)
  await topics(input, out)
  await topics(`${input}-unused`, ref)
  return { input, out, ref, group, refDir: await mkdtemp(join(tmpdir(), `sluice-${name}-ref-`)) }
}

/** The output of `topic` (read_committed), as sorted JSON lines. */
export async function output(topic: string): Promise<string[]> {
  return (await readAll<Record<string, unknown>>(topic)).flat().map((r) => JSON.stringify(r)).sort()
}

/** The same pipeline in one process, bounded: what every run of the job must give. */
export async function reference(input: string, output: string, dir: string): Promise<void> {
  const s = await run(build(bootstrap(), input, output, true), { checkpoint: { dir, intervalMs: 200 } })
  if (s.status !== 'finished') throw new Error(`the reference run ended ${s.status}`)
}

export interface Worker {
  proc: ChildProcess
  log: string
  exited: Promise<number | null>
}

/** Starts one `sluice worker` of the window-join job (with `env` in place of this process's environment). */
export function worker(input: string, output: string, group: string, dir: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Worker {
  const args = [cli, 'worker', fixture, '--runner', 'kafka', '--bootstrap', bootstrap(), '--group', group, '--checkpoint-dir', dir, '--checkpoint-interval', '300ms', '--session-timeout', '6s', '--param', `brokers=${bootstrap()}`, '--param', `input=${input}`, '--param', `output=${output}`, '--param', 'bounded=false', ...extra]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(env !== undefined ? { env } : {}) })
  const w: Worker = { proc, log: '', exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) }
  proc.stderr!.on('data', (d) => (w.log += d))
  return w
}

/** Completed checkpoints in the job's folder. */
export function checkpoints(dir: string): number {
  if (!existsSync(dir)) return 0
  return readdirSync(dir).filter((f) => f.startsWith('chk-') && existsSync(`${dir}/${f}/manifest.json`)).length
}

/**
 * Waits until `done()` holds, checking every 200 ms, for at most `ms` (generous: the machine is shared). A
 * worker of `watch` that exits first, or the timeout, fails with what the workers logged.
 */
export async function until(what: string, done: () => boolean | Promise<boolean>, ms = 240_000, watch: Worker[] = []): Promise<void> {
  const end = Date.now() + ms
  const logs = (): string => watch.map((w, i) => `--- worker ${i} (pid ${w.proc.pid}, exit ${w.proc.exitCode ?? w.proc.signalCode ?? 'running'}):\n${w.log.slice(-3000)}`).join('\n')
  while (!(await done())) {
    const gone = watch.find((w) => w.proc.exitCode !== null)
    if (gone !== undefined) throw new Error(`a worker exited (code ${gone.proc.exitCode}) while waiting for ${what}\n${logs()}`)
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${logs()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function stopJob(dir: string): Promise<void> {
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, [cli, 'stop', dir, '--timeout', '120s'], { stdio: 'ignore' }).on('exit', resolve))
  if (code !== 0) throw new Error(`sluice stop exited ${code}`)
}

/** A loopback proxy to the object store that notes every request as `METHOD key`. */
export async function countingProxy(target: string): Promise<{ server: Server; endpoint: string; seen: string[] }> {
  const to = new URL(target)
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${decodeURIComponent(new URL(req.url!, 'http://x').pathname)}`)
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return { server, endpoint: `http://127.0.0.1:${port}`, seen }
}

/** State files are every object of a checkpoint folder but its manifest. */
export const stateFile = (line: string, method: string): boolean => line.startsWith(method + ' ') && /\/chk-\d+\/[^/]+$/.test(line) && !line.endsWith('/manifest.json')

/** The checkpoint folder of a request line (`chk-00000003`), if any. */
export const folderOf = (line: string): string | undefined => /\/(chk-\d+)\/[^/]+$/.exec(line)?.[1]

/** True when some checkpoint's manifest was written after state files of subtask 0 and of subtask 1 of it. */
export function completeWithBoth(seen: string[]): boolean {
  const puts = seen.filter((l) => l.startsWith('PUT '))
  return puts.some((m) => {
    if (!m.endsWith('/manifest.json')) return false
    const chk = folderOf(m)
    const files = puts.filter((l) => folderOf(l) === chk && stateFile(l, 'PUT'))
    return files.some((l) => /\.0\.\d+\.(state|delta)$/.test(l)) && files.some((l) => /\.1\.\d+\.(state|delta)$/.test(l))
  })
}
