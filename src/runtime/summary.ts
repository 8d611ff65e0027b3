import type { CheckpointReport } from '../checkpoint/coordinator.ts'
import type { MetricsSnapshot } from '../observe/metrics/registry.ts'
import { summaryRows, summaryTotals } from '../observe/metrics/summary-view.ts'
import type { RunSummary } from './run-types.ts'
import { isHot, skewWarning } from './hot-keys.ts'
import { formatCount } from '../core/format-count.ts'

/** What the summary needs beyond the metrics: how the run went, and which steps keep keyed state. */
export interface SummaryInfo {
  status: RunSummary['status']
  parallelism: number
  wallMs: number
  cpuMs: number
  /** Ids of the keyed steps, in plan order: each gets a line of state figures. */
  keyedSteps: readonly string[]
  /** The state backend of the run ('heap' or 'durable'). */
  backend: string
  /** The run took checkpoints: the summary reports them. */
  checkpointing: boolean
  /** Warnings to print under the summary (a watermark that jumped by more than a day). */
  warnings?: string[]
}

/**
 * The run summary as a view of a metrics snapshot: per-step rows, job totals, keyed state and checkpoints all
 * come from the registry; only the outcome and the times come from the run.
 * @example const summary = summaryOf(registry.snapshot(), { status: 'finished', parallelism: 1, ... })
 */
export function summaryOf(s: MetricsSnapshot, info: SummaryInfo): RunSummary {
  const steps = summaryRows(s)
  const { recordsIn, watermark, late, errors, dropped } = summaryTotals(s)
  const byStep = new Map(s.steps.map((t) => [t.step, t]))
  const state = info.keyedSteps.flatMap((id) => {
    const t = byStep.get(id)
    if (t === undefined || t.subtasks === 0) return []
    return [{ step: id, backend: info.backend, keys: t.stateKeys, entries: t.stateEntries, entriesWithoutTtl: t.stateEntriesWithoutTtl }]
  })
  const hotKeys = s.steps.filter((t) => t.hotKeys !== undefined && t.hotKeys.length > 0).map((t) => ({ step: t.step, records: t.recordsIn, keys: t.hotKeys! }))
  const skew = hotKeys.flatMap((h) => skewWarning(h.step, s.subtasks.filter((x) => x.step === h.step).map((x) => x.recordsIn), h.keys) ?? [])
  const warnings = [...(info.warnings ?? []), ...skew]
  return {
    pipeline: s.pipeline,
    status: info.status,
    parallelism: info.parallelism,
    wallMs: info.wallMs,
    cpuMs: info.cpuMs,
    recordsIn,
    watermark,
    steps,
    late,
    errors,
    dropped,
    ...(state.length > 0 ? { state } : {}),
    ...(info.checkpointing ? { checkpoints: checkpointReport(s) } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(hotKeys.length > 0 ? { hotKeys } : {}),
  }
}

function checkpointReport(s: MetricsSnapshot): CheckpointReport {
  const c = s.checkpoints
  return {
    completed: c.completed,
    failed: c.failed,
    deltas: c.deltas,
    restoredFrom: c.restoredFrom,
    restoreMs: c.restoreMs,
    last: c.completed === 0 ? null : { id: c.lastId, bytes: c.lastBytes, syncMs: c.lastSyncMs, asyncMs: c.lastAsyncMs, alignmentMs: c.lastAlignmentMs, ...(c.lastDelta ? { delta: true } : {}) },
  }
}

/**
 * The summary as a terminal table: records in and out per step, late, errors, wall time.
 * @example console.error(formatSummary(await run(p)))
 */
export function formatSummary(s: RunSummary): string {
  const rows = s.steps.map((m) => [m.step, m.kind, formatCount(m.in), formatCount(m.out), formatCount(m.late), formatCount(m.errors), formatCount(m.dropped)])
  const head = ['step', 'kind', 'in', 'out', 'late', 'errors', 'dropped']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  const wm = Number.isFinite(s.watermark) ? new Date(s.watermark).toISOString() : s.watermark > 0 ? '+inf (all input done)' : '-inf'
  return [
    `pipeline '${s.pipeline}' ${s.status} in ${(s.wallMs / 1000).toFixed(2)} s (cpu ${(s.cpuMs / 1000).toFixed(2)} s, parallelism ${s.parallelism})`,
    `records in ${formatCount(s.recordsIn)}, late ${formatCount(s.late)}, errors ${formatCount(s.errors)}, dropped ${formatCount(s.dropped)}, watermark ${wm}`,
    ...(s.checkpoints !== undefined ? [formatCheckpoints(s.checkpoints)] : []),
    ...(s.warnings ?? []).map((w) => `warning: ${w}`),
    // Keys are record content: the summary gives their shares only (the keys are in the summary's and job.metrics()' hotKeys);
    // a step gets a line when a key stands out (isHot), not for its most frequent keys whatever they are.
    ...(s.hotKeys ?? []).filter((h) => isHot(h.records, h.keys)).map((h) => `hot keys of '${h.step}': the top ${Math.min(3, h.keys.length)} take ${h.keys.slice(0, 3).map((k) => `${Math.round((k.count / Math.max(1, h.records)) * 100)}%`).join(', ')} of its records (keys in hotKeys of the summary and job.metrics())`),
    ...s.steps.filter((m) => m.violations !== undefined).map((m) => `contract violations at '${m.step}': ${Object.entries(m.violations!).sort((a, b) => b[1] - a[1]).map(([rule, n]) => `${rule} ${n}`).join(', ')}`),
    ...s.steps.filter((m) => m.quality !== undefined).map((m) => `quality at '${m.step}': ${Object.entries(m.quality!).map(([name, q]) => `${name} ${q.windowsFailed === 0 ? 'passed' : `FAILED ${q.windowsFailed} of`} ${q.windows} window${q.windows === 1 ? '' : 's'}${q.failed > 0 ? ` (${q.failed} of ${q.checked} records failed)` : ''}`).join(', ')}`),
    ...(s.state ?? []).filter((x) => x.keys > 0 || x.entriesWithoutTtl > 0).map((x) => `state of '${x.step}' (${x.backend}): ${formatCount(x.keys)} keys held, ${formatCount(x.entries)} state entries (${formatCount(x.entriesWithoutTtl)} without a TTL)`),
    line(head),
    ...rows.map(line),
  ].join('\n')
}

function formatCheckpoints(c: NonNullable<RunSummary['checkpoints']>): string {
  const last = c.last === null ? '' : `; last #${c.last.id}: ${(c.last.bytes / 1024).toFixed(1)} KiB, snapshot ${c.last.syncMs.toFixed(1)} ms, alignment ${c.last.alignmentMs.toFixed(1)} ms, write ${c.last.asyncMs.toFixed(1)} ms`
  return `checkpoints ${c.completed} completed (${c.deltas} incremental), ${c.failed} failed${c.restoredFrom !== null ? `, resumed from #${c.restoredFrom} (restored in ${(c.restoreMs ?? 0).toFixed(0)} ms)` : ''}${last}`
}

