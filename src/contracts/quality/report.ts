import type { QualityResult } from './window-checks.ts'

/** One expectation over all its windows. */
export interface ExpectationReport {
  step: string
  expectation: string
  kind: string
  field: string | null
  severity: string
  windows: number
  windowsFailed: number
  checked: number
  failed: number
  /** The windows that failed (at most 20 listed), with what was observed. */
  failures: { windowStart: number | null; windowEnd: number | null; observed: Record<string, number | null> }[]
}

/** What `sluice quality report` writes as JSON. */
export interface QualityReport {
  passed: boolean
  results: number
  expectations: ExpectationReport[]
}

/**
 * Sums quality results (the records of an `expect` step's `quality` output) per step and expectation.
 * @example buildQualityReport(lines.map((l) => JSON.parse(l)))
 */
export function buildQualityReport(results: readonly QualityResult[]): QualityReport {
  const by = new Map<string, ExpectationReport>()
  for (const r of results) {
    const key = `${r.step}\u0000${r.expectation}`
    let e = by.get(key)
    if (e === undefined) by.set(key, (e = { step: r.step, expectation: r.expectation, kind: r.kind, field: r.field, severity: r.severity, windows: 0, windowsFailed: 0, checked: 0, failed: 0, failures: [] }))
    e.windows++
    e.checked += r.checked
    e.failed += r.failed
    if (!r.passed) {
      e.windowsFailed++
      if (e.failures.length < 20) e.failures.push({ windowStart: r.windowStart, windowEnd: r.windowEnd, observed: r.observed })
    }
  }
  const expectations = [...by.values()]
  return { passed: expectations.every((e) => e.windowsFailed === 0), results: results.length, expectations }
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const time = (t: number | null) => (t === null ? 'whole run' : new Date(t).toISOString())

/** The report as one self-contained HTML page (no scripts, no external files). */
export function renderQualityHtml(report: QualityReport, title = 'Data quality report'): string {
  const rows = report.expectations
    .map((e) => {
      const ok = e.windowsFailed === 0
      const fails = e.failures.map((f) => `<li>${esc(time(f.windowStart))} – ${esc(f.windowEnd === null ? '' : time(f.windowEnd))}: ${esc(Object.entries(f.observed).map(([k, v]) => `${k} ${v ?? '-'}`).join(', '))}</li>`).join('')
      return `<tr class="${ok ? 'pass' : 'fail'}"><td>${ok ? 'pass' : 'fail'}</td><td>${esc(e.step)}</td><td>${esc(e.expectation)}</td><td>${esc(e.severity)}</td><td>${e.windows - e.windowsFailed} / ${e.windows}</td><td>${e.checked}</td><td>${e.failed}</td><td>${fails === '' ? '' : `<ul>${fails}</ul>`}</td></tr>`
    })
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222 }
table { border-collapse: collapse; width: 100% }
th, td { border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left; vertical-align: top }
tr.pass td:first-child { color: #17692e; font-weight: 600 }
tr.fail td:first-child { color: #b3261e; font-weight: 600 }
tr.fail { background: #fdf0ef }
.summary { font-size: 1.2em; margin-bottom: 1em }
ul { margin: 0; padding-left: 1.2em }
</style></head><body>
<h1>${esc(title)}</h1>
<p class="summary">${report.passed ? 'Every expectation passed' : `${report.expectations.filter((e) => e.windowsFailed > 0).length} of ${report.expectations.length} expectations failed`} (${report.results} results).</p>
<table><thead><tr><th>status</th><th>step</th><th>expectation</th><th>severity</th><th>windows passed</th><th>checked</th><th>failed</th><th>failed windows</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`
}
