import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createClient } from '../../src/connectors/kafka/client.ts'

const cli = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))
const job = fileURLToPath(new URL('./workers-pipeline.ts', import.meta.url))

/**
 * `sluice worker --runner kafka` with 1, 2 and 3 workers on this machine: a keyed window count over a topic of
 * `--records` events (`--partitions` partitions), exactly once into another topic. The workers start together
 * with `--min-workers` set to their number, so the job starts once all have joined: besides the wall time
 * from start to end it reports the time of the run (from its assignment to the end) and the CPU seconds of
 * all workers (user + system, from /usr/bin/time; process start and group join included). One JSON line per
 * worker count.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      brokers: { type: 'string', default: '127.0.0.1:59092' },
      records: { type: 'string', default: '200000' },
      partitions: { type: 'string', default: '6' },
      workers: { type: 'string', default: '1,2,3' },
    },
  })
  const brokers = String(values.brokers)
  const n = Number(values.records)
  const partitions = Number(values.partitions)
  const client = createClient({ brokers })
  const tag = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`
  const input = `bench-workers-in-${tag}`
  const admin = client.admin()
  await admin.connect()
  const counts = String(values.workers).split(',').map(Number)
  await admin.createTopics({ topics: [input, ...counts.map((w) => `${input}-out-${w}`)].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })), waitForLeaders: true })
  const producer = client.producer({ idempotent: true })
  await producer.connect()
  for (let from = 0; from < n; from += 5000) {
    const messages = []
    for (let i = from; i < Math.min(n, from + 5000); i++) messages.push({ partition: i % partitions, value: JSON.stringify({ k: `k${i % 1000}`, n: i, ts: i }) })
    await producer.send({ topic: input, messages })
  }
  await producer.disconnect()

  for (const workers of counts) {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-workers-bench-'))
    const group = `bench-workers-${tag}-${workers}`
    const load = loadavg()[0]
    const started = performance.now()
    let lastRun = started
    const procs = Array.from({ length: workers }, () => {
      const args = ['-f', 'cpu %U %S', process.execPath, cli, 'worker', job, '--runner', 'kafka', '--bootstrap', brokers, '--group', group, '--checkpoint-dir', dir, '--checkpoint-interval', '2s', '--min-workers', String(workers), '--param', `brokers=${brokers}`, '--param', `input=${input}`, '--param', `output=${input}-out-${workers}`]
      const p = spawn('/usr/bin/time', args, { stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      p.stderr.on('data', (d: Buffer) => {
        err += d
        if (new RegExp(`thread \\d+ of ${workers}`).test(String(d))) lastRun = performance.now()
      })
      return new Promise<{ cpu: number; log: string }>((resolve) =>
        p.on('exit', () => {
          const m = /cpu ([\d.]+) ([\d.]+)/.exec(err)
          resolve({ cpu: m === null ? NaN : Number(m[1]) + Number(m[2]), log: err })
        }),
      )
    })
    const done = await Promise.all(procs)
    const wallMs = performance.now() - started
    const lastRunMs = performance.now() - lastRun
    const cpuS = done.reduce((s, d) => s + d.cpu, 0)
    console.log(JSON.stringify({ bench: 'kafka-runner-workers', workers, records: n, partitions, cores: cpus().length, loadAverageAtStart: Math.round(load * 10) / 10, wallS: round(wallMs / 1000), lastRunS: round(lastRunMs / 1000), recordsPerSecondRun: Math.round(n / (lastRunMs / 1000)), workersCpuS: round(cpuS), recordsPerCpuSecond: Math.round(n / cpuS) }))
    await rm(dir, { recursive: true, force: true })
  }
  await admin.deleteTopics({ topics: [input, ...counts.map((w) => `${input}-out-${w}`)] }).catch(() => {})
  await admin.disconnect()
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}
