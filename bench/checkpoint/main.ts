import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { agg, pipeline, run, sink, source, window, type RunSummary } from '../../src/index.ts'

/**
 * Checkpoint costs: throughput with checkpoints versus without, the time and size of a checkpoint holding
 * `--keys` keys of state, and the time to recover from it. One JSON line per measurement.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { events: { type: 'string', default: '4000000' }, keys: { type: 'string', default: '1000000' } } })
  const events = Number(values.events)
  const keys = Number(values.keys)
  const base = await mkdtemp(join(tmpdir(), 'sluice-bench-chk-'))
  try {
    await throughput(events, base)
    await largeState(keys, base)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
}

const tumbling = (n: number) =>
  pipeline('bench-chk-tumbling')
    .from(source.generator({ count: n, make: (g) => ({ k: g.int(10_000), ts: 1_700_000_000_000 + Math.floor(g.seq / 100) }), eventTime: (e) => e.ts }))
    .keyBy((e) => e.k)
    .window(window.tumbling({ size: '10s' }))
    .aggregate(agg.count())
    .to(sink.blackhole()).pipeline

async function measure(build: () => ReturnType<typeof tumbling>, opts: Parameters<typeof run>[1]): Promise<{ summary: RunSummary; cpuS: number }> {
  const cpu0 = process.cpuUsage()
  const summary = await run(build(), opts)
  const cpu = process.cpuUsage(cpu0)
  return { summary, cpuS: (cpu.user + cpu.system) / 1e6 }
}

async function throughput(n: number, base: string): Promise<void> {
  await measure(() => tumbling(Math.min(n, 500_000)), {})
  // Off both first and last, so JIT warm-up and machine noise show in the two figures without checkpoints.
  for (const intervalMs of [0, 10_000, 1000, 100, 0]) {
    const opts = intervalMs === 0 ? {} : { checkpoint: { dir: join(base, `tp-${intervalMs}`), intervalMs } }
    const { summary, cpuS } = await measure(() => tumbling(n), opts)
    const c = summary.checkpoints
    console.log(JSON.stringify({ bench: 'checkpoint-overhead', events: n, checkpointIntervalMs: intervalMs === 0 ? null : intervalMs, eventsPerCpuSecond: Math.round(n / cpuS), wallSeconds: +(summary.wallMs / 1000).toFixed(2), checkpoints: c?.completed ?? 0, lastSyncMs: c?.last ? +c.last.syncMs.toFixed(1) : null }))
  }
}

/** A non-windowed keyed aggregate over `keys` distinct keys: its table is the state. */
const table = (keys: number) =>
  pipeline('bench-chk-state')
    .from(source.generator({ count: keys, make: (g) => ({ k: g.seq, v: g.int(1000), ts: g.seq }), eventTime: (e) => e.ts }))
    .keyBy((e) => e.k)
    .aggregate(agg.fields({ n: agg.count(), sum: agg.sum((e: { v: number }) => e.v) }))
    .to(sink.blackhole()).pipeline

async function largeState(keys: number, base: string): Promise<void> {
  const dir = join(base, 'state')
  // Interval 0: the only checkpoint is the final one, taken with every key's state in place.
  const { summary } = await measure(() => table(keys), { checkpoint: { dir, intervalMs: 0 } })
  const last = summary.checkpoints!.last!
  console.log(JSON.stringify({ bench: 'checkpoint-large-state', keys, bytes: last.bytes, syncMs: +last.syncMs.toFixed(1), asyncMs: +last.asyncMs.toFixed(1) }))
  const restored = await run(table(keys), { checkpoint: { dir, intervalMs: 0 } })
  const c = restored.checkpoints!
  console.log(JSON.stringify({ bench: 'checkpoint-recovery', keys, restoredFrom: c.restoredFrom, restoreMs: Math.round(c.restoreMs ?? NaN) }))
}
