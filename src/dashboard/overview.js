// Overview: every job with its state, throughput (records read per second, with its line), freshness (how far
// the sinks' event time trails the clock), SLO status and the error budget left.
import { lineChart, rate, Series } from './chart.js'
import { api, esc, fmt, follow, operatorButtons, pct, wireButtons } from './util.js'

const series = new Series(60)

/** Records read so far (sum over sources) and the freshness lag (the slowest sink's), from a metrics snapshot. */
export function figures(metrics) {
  const sources = metrics.steps.filter((t) => t.kind.startsWith('source-'))
  const sinks = metrics.steps.filter((t) => t.kind.startsWith('sink-') && Number.isFinite(t.inputLagMs))
  return {
    read: sources.reduce((a, t) => a + t.recordsIn, 0),
    lagMs: sinks.length > 0 ? Math.max(...sinks.map((t) => t.inputLagMs)) : null,
  }
}

function sloCell(slo) {
  if (slo.length === 0) return '<td data-field="slo">none declared</td><td data-field="budget">–</td>'
  const worst = slo.some((s) => s.state === 'breached') ? 'breached' : slo.every((s) => s.state === 'met') ? 'met' : 'unknown'
  const items = slo.map((s) => `<span class="slo-${esc(s.state)}" data-slo="${esc(s.slo)}" title="objective ${pct(s.objective)}, SLI ${pct(s.sli)}">${esc(s.slo)}</span>`).join(' ')
  const budgets = slo.map((s) => s.budgetLeft).filter((b) => b !== null)
  const least = budgets.length > 0 ? Math.min(...budgets) : null
  return `<td data-field="slo" data-state="${worst}">${items}</td><td class="n" data-field="budget">${pct(least)}</td>`
}

export async function renderOverview({ root, role, jobs, signal }) {
  root.innerHTML = `<h2>Overview</h2><table id="jobs"><thead><tr><th>Job</th><th>State</th><th>Records read</th><th>Records/s</th><th>Throughput</th><th>Freshness</th><th>SLOs</th><th>Budget left</th><th></th></tr></thead><tbody></tbody></table>`
  const last = new Map()
  const slo = new Map()
  const draw = (name, status, metrics) => {
    const f = figures(metrics)
    const prev = last.get(name)
    const r = prev ? rate(f.read, prev.read, metrics.takenAt - prev.takenAt) : null
    last.set(name, { read: f.read, takenAt: metrics.takenAt })
    const s = series.push(name, r ?? 0)
    let row = root.querySelector(`tr[data-job="${CSS.escape(name)}"]`)
    if (!row) {
      row = document.createElement('tr')
      row.dataset.job = name
      root.querySelector('#jobs tbody').append(row)
    }
    row.innerHTML = `<td><a href="#oncall/${encodeURIComponent(name)}">${esc(name)}</a></td><td class="status-${esc(status.status)}" data-field="status">${esc(status.status)}</td>
      <td class="n" data-field="read">${fmt(f.read)}</td><td class="n" data-field="rate">${fmt(r)}</td><td>${lineChart(s, { label: 'records read per second' })}</td>
      <td class="n" data-field="freshness">${f.lagMs === null ? '–' : `${fmt(f.lagMs / 1000, 1)} s behind`}</td>${sloCell(slo.get(name) ?? [])}
      <td>${operatorButtons(name, role)}</td>`
    wireButtons(row)
  }
  const pollSlo = async () => {
    for (const j of jobs) slo.set(j.name, await api(`/api/jobs/${encodeURIComponent(j.name)}/slo`))
  }
  await pollSlo()
  const timer = setInterval(() => void pollSlo().catch(() => {}), 2000)
  signal.addEventListener('abort', () => clearInterval(timer))
  await Promise.all(jobs.map((j) => follow(j.name, (m) => draw(j.name, m.status, m.metrics), signal)))
}
