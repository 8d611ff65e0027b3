import type { Pipeline } from '../api/pipeline.ts'
import { MetricsRegistry } from '../observe/metrics/registry.ts'
import { serveMetrics, type MetricsServer } from '../observe/prometheus/server.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import { UsageError, type ParsedArgs } from './command.ts'

/** `--metrics-port` and `--metrics-host` of `sluice run`; undefined without a port. */
export function metricsPortFlags(values: ParsedArgs['values']): { port: number; host?: string } | undefined {
  const raw = values['metrics-port']
  const host = values['metrics-host']
  if (raw === undefined) {
    if (host !== undefined) throw new UsageError('--metrics-host needs --metrics-port', 'run')
    return undefined
  }
  const s = String(raw)
  const port = Number(s)
  if (!/^\d+$/.test(s) || port > 65_535) throw new UsageError(`--metrics-port must be a port number (0 to 65535), got '${s}'`, 'run')
  return { port, ...(typeof host === 'string' ? { host } : {}) }
}

/**
 * The metrics server of one `sluice run`: it starts before the job (reporting it as starting) and serves the
 * job's live registry once `serve(job)` is called.
 */
export async function serveJobMetrics(p: Pipeline, at: { port: number; host?: string }): Promise<MetricsServer & { serve(job: JobHandle): void }> {
  const starting = new MetricsRegistry({ pipeline: p.name })
  let job: JobHandle | undefined
  const server = await serveMetrics({
    ...at,
    snapshot: () => (job !== undefined ? job.metrics() : starting.snapshot()),
    deadLetters: p.options.onError === 'dead-letter',
    ...(p.options.slo !== undefined ? { slo: p.options.slo } : {}),
  })
  return { port: server.port, url: server.url, close: () => server.close(), serve: (j) => void (job = j) }
}
