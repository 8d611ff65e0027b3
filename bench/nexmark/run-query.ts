import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, type CombineOption, type RunSummary } from '../../src/index.ts'
import type { NexmarkConfig } from '../../src/connectors/nexmark/index.ts'
import { nexmarkPipeline, pipelineParams } from './pipeline.ts'
import type { NexmarkQuery } from './query.ts'
import { ResultDigest, ResultTable, resultSink } from './results.ts'

export interface QueryRunOptions {
  events: number
  parallelism?: number
  /** Keep the final results in memory (for --out and for comparisons). */
  materialize?: boolean
  /** Keep a digest of the final results (see `ResultDigest`) instead: to compare results that do not fit in memory. */
  digest?: boolean
  /** Generator settings; the defaults are those of `sluice nexmark generate`. */
  config?: Partial<NexmarkConfig>
  batchSize?: number
  /** Source partitions (default: the parallelism, so that every subtask reads a share of the events). */
  partitions?: number
  /** Periodic exactly-once checkpoints into a temporary folder (removed afterwards); 0 or undefined for none. */
  checkpointIntervalMs?: number
  /** Where keyed state lives (default 'heap'). */
  state?: 'heap' | 'durable'
  /** The pipeline's `combine` option (local pre-aggregation before keyed exchanges); undefined for the default. */
  combine?: CombineOption
}

export interface QueryRun<R> {
  summary: RunSummary
  /** Result records received by the sink (changelog records for updating queries). */
  records: number
  /** Final results, when materialised. */
  rows: R[] | undefined
  /** The digest of the final results, when asked for. */
  digest: string | undefined
  /** CPU time the sink spent keeping the results or their digest (not the query's work). */
  tableCpuSeconds: number
  /** Checkpoints completed (the periodic ones and the last one at the end of input); 0 without checkpoints. */
  checkpoints: number
  /** How many of them were incremental (deltas). */
  checkpointDeltas: number
  /** Bytes of the last checkpoint written. */
  checkpointBytes: number
}

/** Runs one query over `events` generated events, bounded, to the end. */
export async function runQuery<R extends object>(query: NexmarkQuery<R>, opts: QueryRunOptions): Promise<QueryRun<R>> {
  const table = opts.materialize ? new ResultTable<R>(query.identity) : opts.digest ? new ResultDigest<R>(query.columns, query.identity) : undefined
  const out = resultSink<R>(table)
  const config = opts.config ?? {}
  const parallelism = opts.parallelism ?? 1
  const partitions = opts.partitions ?? parallelism
  const p = nexmarkPipeline(query, opts.events, config, out, opts.batchSize, partitions, opts.combine)
  if (opts.state !== undefined) p.options.state = { backend: opts.state }
  const interval = opts.checkpointIntervalMs ?? 0
  const dir = interval > 0 ? mkdtempSync(join(tmpdir(), `nexmark-${query.name}-`)) : undefined
  try {
    const summary = await run(p, {
      ...(parallelism === 1 ? {} : { parallelism, module: new URL('./pipeline.ts', import.meta.url).href, params: pipelineParams(query.name, opts.events, config, opts.batchSize, partitions, opts.combine) }),
      ...(dir === undefined ? {} : { checkpoint: { dir, intervalMs: interval } }),
    })
    const cp = summary.checkpoints
    if (cp !== undefined && cp.failed > 0) throw new Error(`${query.name}: ${cp.failed} checkpoints failed`)
    // Sink subtasks on worker threads count in their own copy of the sink: the run's metrics have them all.
    const records = parallelism === 1 || table !== undefined ? out.records : summary.steps.filter((s) => s.kind.startsWith('sink')).reduce((a, s) => a + s.in, 0)
    return { summary, records, rows: table instanceof ResultTable ? table.rows() : undefined, digest: table instanceof ResultDigest ? table.value : undefined, tableCpuSeconds: out.tableCpuSeconds, checkpoints: cp?.completed ?? 0, checkpointDeltas: cp?.deltas ?? 0, checkpointBytes: cp?.last?.bytes ?? 0 }
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
}

/** A result row with its fields in the query's column order (what --out writes). */
export function orderColumns(row: object, columns: readonly string[]): Record<string, unknown> {
  const r = row as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const c of columns) out[c] = r[c] ?? null
  return out
}
