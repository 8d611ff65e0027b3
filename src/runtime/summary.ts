import type { StepMetricsJson } from '../core/metrics.ts'
import type { RunSummary } from './run-types.ts'

export function summarize(s: Omit<RunSummary, 'cpuMs' | 'late' | 'errors' | 'dropped'> & { cpu0: NodeJS.CpuUsage; extraCpuMs?: number }): RunSummary {
  const cpu = process.cpuUsage(s.cpu0)
  const sum = (f: (m: StepMetricsJson) => number) => s.steps.reduce((a, m) => a + f(m), 0)
  const { cpu0: _c, extraCpuMs, ...rest } = s
  return { ...rest, cpuMs: (cpu.user + cpu.system) / 1000 + (extraCpuMs ?? 0), late: sum((m) => m.late), errors: sum((m) => m.errors), dropped: sum((m) => m.dropped) }
}

/** The summary as a terminal table: records in and out per step, late, errors, wall time. */
export function formatSummary(s: RunSummary): string {
  const rows = s.steps.map((m) => [m.step, m.kind, String(m.in), String(m.out), String(m.late), String(m.errors), String(m.dropped)])
  const head = ['step', 'kind', 'in', 'out', 'late', 'errors', 'dropped']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  const wm = Number.isFinite(s.watermark) ? new Date(s.watermark).toISOString() : s.watermark > 0 ? '+inf (all input done)' : '-inf'
  return [
    `pipeline '${s.pipeline}' ${s.status} in ${(s.wallMs / 1000).toFixed(2)} s (cpu ${(s.cpuMs / 1000).toFixed(2)} s, parallelism ${s.parallelism})`,
    `records in ${s.recordsIn}, late ${s.late}, errors ${s.errors}, dropped ${s.dropped}, watermark ${wm}`,
    ...(s.checkpoints !== undefined ? [formatCheckpoints(s.checkpoints)] : []),
    ...(s.warnings ?? []).map((w) => `warning: ${w}`),
    ...(s.state ?? []).filter((x) => x.keys > 0 || x.entriesWithoutTtl > 0).map((x) => `state of '${x.step}' (${x.backend}): ${x.keys} keys held, ${x.entries} state entries (${x.entriesWithoutTtl} without a TTL)`),
    line(head),
    ...rows.map(line),
  ].join('\n')
}

function formatCheckpoints(c: NonNullable<RunSummary['checkpoints']>): string {
  const last = c.last === null ? '' : `; last #${c.last.id}: ${(c.last.bytes / 1024).toFixed(1)} KiB, snapshot ${c.last.syncMs.toFixed(1)} ms, alignment ${c.last.alignmentMs.toFixed(1)} ms, write ${c.last.asyncMs.toFixed(1)} ms`
  return `checkpoints ${c.completed} completed (${c.deltas} incremental), ${c.failed} failed${c.restoredFrom !== null ? `, resumed from #${c.restoredFrom} (restored in ${(c.restoreMs ?? 0).toFixed(0)} ms)` : ''}${last}`
}
