import { parseArgs } from 'node:util'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog } from '../../src/log/index.ts'
import type { LogRecordInput, FsyncPolicy } from '../../src/log/index.ts'

/**
 * The embedded log: appends of 100-byte records in batches with group commit (one write and one
 * fdatasync per group of batches), then sequential reads. `--producers` appends that many batches
 * concurrently, which is how group commit merges them. One JSON line per measurement: wall-clock
 * records/s (bound by fdatasync latency under 'always') and records per CPU-second.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: 'string', default: '2000000' },
      batch: { type: 'string', default: '1000' },
      producers: { type: 'string', default: '1,4' },
      fsync: { type: 'string', default: 'always' },
      dir: { type: 'string' },
    },
  })
  const total = Number(values.records)
  const batchSize = Number(values.batch)
  const fsync = values.fsync as FsyncPolicy
  const target = 1_000_000
  for (const producers of String(values.producers).split(',').map(Number)) {
    const dir = await mkdtemp(join(values.dir ?? tmpdir(), 'sluice-log-bench-'))
    try {
      const log = await openLog(dir, { fsync, segmentBytes: 256 * 1024 * 1024, retentionCheckMs: 0 })
      await log.createTopic('bench', { partitions: 1 })
      const value = Buffer.alloc(100, 120)
      const batch: LogRecordInput[] = Array.from({ length: batchSize }, () => ({ value }))
      const batches = Math.ceil(total / batchSize)
      let next = 0
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      await Promise.all(
        Array.from({ length: producers }, async () => {
          while (next < batches) {
            next++
            await log.append('bench', 0, batch)
          }
        }),
      )
      const appendS = (performance.now() - t0) / 1000
      const appendCpu = cpuSeconds(cpu0)
      const n = batches * batchSize
      line({ bench: 'log-append', records: n, recordBytes: 100, batch: batchSize, producers, fsync, recordsPerSecond: Math.round(n / appendS), mbPerSecond: round((n * 133) / appendS / 1e6), cpuSeconds: round(appendCpu), recordsPerCpuSecond: Math.round(n / appendCpu), target, meetsTarget: n / appendS >= target })

      // Sequential read of everything appended, batch after batch, as a consumer would.
      const t1 = performance.now()
      const cpu1 = process.cpuUsage()
      let off = 0
      let read = 0
      let checksum = 0
      while (off < n) {
        const b = await log.readBatch('bench', 0, off, { maxRecords: 10_000, maxBytes: 4 * 1024 * 1024 })
        read += b.offsets.length
        checksum += b.values[b.values.length - 1].length
        off = b.nextOffset
      }
      const readS = (performance.now() - t1) / 1000
      if (read !== n || checksum === 0) throw new Error(`read ${read} of ${n} records`)
      const readCpu = cpuSeconds(cpu1)
      line({ bench: 'log-read', records: n, recordBytes: 100, producers, recordsPerSecond: Math.round(n / readS), mbPerSecond: round((n * 133) / readS / 1e6), cpuSeconds: round(readCpu), recordsPerCpuSecond: Math.round(n / readCpu), target, meetsTarget: n / readS >= target })
      await log.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

function cpuSeconds(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from)
  return (c.user + c.system) / 1e6
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

function line(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o))
}
