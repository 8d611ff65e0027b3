import { parseArgs } from 'node:util'
import type { Batch } from '../../src/core/batch.ts'
import { ManualClock } from '../../src/core/clock.ts'
import { StepMetrics } from '../../src/core/metrics.ts'
import type { OperatorContext, Output } from '../../src/core/operator.ts'
import { IntervalJoinOperator } from '../../src/operators/join/interval-join-operator.ts'
import { PolicyErrorSink } from '../../src/runtime/error-sink.ts'
import { DurableStateBackend } from '../../src/state/durable/durable-backend.ts'
import { HeapStateBackend } from '../../src/state/heap/heap-backend.ts'

/**
 * The interval join operator on its own, on the heap or the durable store: `--events` records in batches of
 * 1,000 over `--keys` keys, the sides taking turns per batch, ten timestamps a batch, time moving 5 a batch
 * and the watermark 60 behind every fourth batch, a snapshot every 100 batches (copied as a checkpoint
 * would). Prints records per CPU-second and the snapshots' time.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      state: { type: 'string', default: 'heap' },
      events: { type: 'string', default: '1000000' },
      keys: { type: 'string', default: '20000' },
      lower: { type: 'string', default: '-50' },
      upper: { type: 'string', default: '50' },
      'cache-entries': { type: 'string' },
    },
  })
  const n = Number(values.events)
  const nkeys = Number(values.keys)
  let wm = -Infinity
  const clock = new ManualClock(0)
  const cache = values['cache-entries'] === undefined ? undefined : Number(values['cache-entries'])
  const backend = values.state === 'durable' ? new DurableStateBackend({ clock, watermark: () => wm, cacheEntries: cache }) : new HeapStateBackend({ clock, watermark: () => wm })
  const metrics = new StepMetrics('join', 'bench')
  const ctx: OperatorContext = {
    pipeline: 'bench',
    stepId: 'join',
    subtask: 0,
    parallelism: 1,
    clock,
    metrics,
    errors: new PolicyErrorSink('fail', () => metrics),
    state: backend,
    currentWatermark: () => wm,
    scheduleProcessingTime: () => {},
  }
  const op = new IntervalJoinOperator({ lower: Number(values.lower), upper: Number(values.upper), type: 'left', fn: (_l, r) => r }, ctx)
  let results = 0
  const out: Output = { emit: (b) => void (results += b.values.length), side: () => {} }
  const B = 1000
  let t = 0
  let snapshotMs = 0
  const cpu0 = process.cpuUsage()
  for (let i = 0, batch = 0; i < n; i += B, batch++) {
    const b: Batch = { values: [], times: [], keys: [] }
    for (let j = 0; j < B; j++) {
      b.values.push({ id: i + j, p: `payload-${j}` })
      b.times.push(t + (j % 10))
      b.keys!.push((i + j) % nkeys)
    }
    op.process(b, out, batch & 1)
    t += 5
    if (batch % 4 === 3) op.onWatermark!((wm = t - 60), out)
    if (batch % 100 === 99) {
      const s0 = performance.now()
      structuredClone(op.snapshot!())
      snapshotMs += performance.now() - s0
    }
  }
  const cpu = process.cpuUsage(cpu0)
  const cpuS = (cpu.user + cpu.system) / 1e6
  console.log(JSON.stringify({ bench: 'interval-join', state: values.state, events: n, keys: nkeys, results, recordsPerCpuSecond: Math.round(n / cpuS), snapshotMs: Math.round(snapshotMs), storeBytes: backend.stats().bytes }))
  backend.close()
}
