import { MetricsRegistry } from '../metrics/registry.ts'
import { emptyHistogram, observe } from '../../core/latency-histogram.ts'

/**
 * A registry filled as a running job at parallelism 2 would fill it: a source, a keyed window and a sink, two
 * subtasks each, one completed checkpoint. For tests of exporters and probes.
 * @example const text = await new PrometheusExposition().render(sampleRegistry().snapshot())
 */
export function sampleRegistry(now: () => number = () => 1_700_000_000_000): MetricsRegistry {
  const r = new MetricsRegistry({ pipeline: 'orders', now })
  r.status = 'running'
  for (const subtask of [0, 1]) {
    const src = r.step('read', 'source-jsonl', subtask)
    src.recordsIn = 1000 + subtask
    src.recordsOut = 1000 + subtask
    src.bytesIn = 64_000
    src.watermark = now() - 5_000
    src.inputLagMs = 5_000
    src.consumerLag = { unit: 'records', partitions: [subtask, subtask + 2], lag: [120, 0] }
    const win = r.step('per-minute', 'window-aggregate', subtask)
    win.recordsIn = 1000
    win.recordsOut = 20
    win.late = 3
    win.errors = 2
    win.dropped = 1
    win.backpressureMs = 1_500
    win.stateKeys = 40
    win.stateBytes = 4_096
    win.watermark = now() - 6_000
    win.inputLagMs = 6_000
    win.keyGroupRecords = Array.from({ length: 128 }, (_, g) => (g % 2 === subtask ? 8 * (g + 1) : 0))
    win.keyGroupKeys = Array.from({ length: 128 }, (_, g) => (g % 2 === subtask && g < 8 ? 5 : 0))
    win.keyGroupBytes = win.keyGroupKeys.map((n) => n * 120)
    const out = r.step('write', 'sink-jsonl', subtask)
    out.recordsIn = 20
    out.bytesOut = 2_000
    out.watermark = now() - 6_000
    out.inputLagMs = 6_000
    out.latency = { ingest: emptyHistogram(), eventTime: emptyHistogram() }
    observe(out.latency.ingest, 3, 15) // 15 records 3 ms after ingestion, 5 after 40 ms
    observe(out.latency.ingest, 40, 5)
    observe(out.latency.eventTime, 65_000, 20)
  }
  r.checkpointCompleted({ id: 4, bytes: 8_192, syncMs: 3, asyncMs: 12, alignmentMs: 5 }, 25)
  r.checkpoints.failed = 1
  return r
}
