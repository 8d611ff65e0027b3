// On-call: one job's throughput and lag over time, backpressure per step with the bottleneck marked, checkpoint
// history, dead-letter and late rates, recent errors and restarts.
import { lineChart, rate, Series } from './chart.js'
import { figures } from './overview.js'
import { api, esc, fmt, follow, operatorButtons, time, wireButtons } from './util.js'

/**
 * The bottleneck: the step that is not itself held up but whose input steps are (backpressure flows upstream
 * from the slowest step); null when no step waits on its output.
 */
export function bottleneck(steps, bpRate) {
  const held = steps.filter((s) => (bpRate.get(s.id) ?? 0) > 1)
  if (held.length === 0) return null
  const worst = held.reduce((a, b) => ((bpRate.get(b.id) ?? 0) > (bpRate.get(a.id) ?? 0) ? b : a))
  const downstream = steps.filter((s) => s.inputs.some((i) => i.from === worst.id) && (bpRate.get(s.id) ?? 0) <= 1)
  return downstream[0]?.id ?? worst.id
}

export async function renderOncall({ root, role, job, signal }) {
  const q = `/api/jobs/${encodeURIComponent(job)}`
  root.innerHTML = `<h2>On-call: ${esc(job)} <span id="state"></span> ${operatorButtons(job, role)}</h2>
    <div class="charts">
      <figure id="throughput"><figcaption>Records read per second <b data-field="rate"></b></figcaption><div></div></figure>
      <figure id="lag"><figcaption>Lag of the sinks (s) <b data-field="lag"></b></figcaption><div></div></figure>
      <figure id="bad"><figcaption>Dead letters/s <b data-field="dlq"></b> · late/s <b data-field="late"></b></figcaption><div></div></figure>
    </div>
    <h3>Backpressure per step <span id="bottleneck"></span></h3>
    <table id="backpressure"><thead><tr><th>Step</th><th>Kind</th><th>Records in</th><th>Blocked ms/s</th><th></th></tr></thead><tbody></tbody></table>
    <h3>Checkpoints</h3>
    <table id="checkpoints"><thead><tr><th>Id</th><th>At</th><th>Outcome</th><th>Duration ms</th><th>Bytes</th><th>Savepoint</th></tr></thead><tbody></tbody></table>
    <h3>Recent errors <span id="restarts"></span></h3>
    <table id="errors"><thead><tr><th>At</th><th>Code</th><th>Message</th></tr></thead><tbody></tbody></table>`
  wireButtons(root)
  const graph = await api(`${q}/graph`)
  const series = new Series(120)
  let prev
  const draw = ({ status, metrics }) => {
    const f = figures(metrics)
    const dt = prev ? metrics.takenAt - prev.takenAt : 0
    const perStep = new Map(metrics.steps.map((t) => [t.step, t]))
    const sum = (k) => metrics.steps.reduce((a, t) => a + t[k], 0)
    const r = rate(f.read, prev?.read, dt)
    const dlq = rate(sum('errors'), prev?.errors, dt)
    const late = rate(sum('late'), prev?.late, dt)
    const bp = new Map(metrics.steps.map((t) => [t.step, rate(t.backpressureMs, prev?.bp.get(t.step), dt) ?? 0]))
    prev = { takenAt: metrics.takenAt, read: f.read, errors: sum('errors'), late: sum('late'), bp: new Map(metrics.steps.map((t) => [t.step, t.backpressureMs])) }
    root.querySelector('#state').textContent = status.status
    root.querySelector('#state').className = `status-${status.status}`
    const chart = (id, name, v) => (root.querySelector(`#${id} div`).innerHTML = lineChart(series.push(name, v ?? 0), { width: 320, height: 80 }))
    chart('throughput', 'rate', r)
    chart('lag', 'lag', f.lagMs === null ? 0 : f.lagMs / 1000)
    chart('bad', 'bad', (dlq ?? 0) + (late ?? 0))
    root.querySelector('[data-field="rate"]').textContent = fmt(r)
    root.querySelector('[data-field="lag"]').textContent = f.lagMs === null ? '–' : fmt(f.lagMs / 1000, 1)
    root.querySelector('[data-field="dlq"]').textContent = fmt(dlq, 1)
    root.querySelector('[data-field="late"]').textContent = fmt(late, 1)
    const neck = bottleneck(graph.steps, bp)
    root.querySelector('#bottleneck').textContent = neck === null ? '· no step is held up' : `· bottleneck: ${neck}`
    const max = Math.max(1, ...bp.values())
    root.querySelector('#backpressure tbody').innerHTML = graph.steps
      .map((s) => {
        const b = bp.get(s.id) ?? 0
        return `<tr data-step="${esc(s.id)}"${s.id === neck ? ' class="bottleneck"' : ''}><td>${esc(s.id)}</td><td>${esc(s.kind)}</td><td class="n">${fmt(perStep.get(s.id)?.recordsIn)}</td><td class="n">${fmt(b)}</td><td><span class="bar" style="width:${Math.round((b / max) * 100)}px"></span></td></tr>`
      })
      .join('')
  }
  const poll = async () => {
    const [cps, errs] = await Promise.all([api(`${q}/checkpoints`), api(`${q}/errors`)])
    root.querySelector('#checkpoints tbody').innerHTML = cps
      .slice(-8)
      .reverse()
      .map((c) => `<tr data-id="${c.id}" class="${c.ok ? '' : 'failed'}"><td class="n">${c.id}</td><td>${time(c.at)}</td><td>${c.ok ? 'completed' : `failed: ${esc(c.error)}`}</td><td class="n">${fmt(c.ok ? c.syncMs + c.asyncMs + (c.alignmentMs ?? 0) : null)}</td><td class="n">${fmt(c.bytes)}</td><td>${c.savepoint ? esc(c.savepoint.split(/[\\/]/).pop()) : ''}</td></tr>`)
      .join('')
    root.querySelector('#restarts').textContent = `· restarts: ${errs.restarts}`
    root.querySelector('#errors tbody').innerHTML = errs.errors.length === 0 ? '<tr><td colspan="3">none</td></tr>' : errs.errors.slice(-10).reverse().map((e) => `<tr><td>${time(e.at)}</td><td>${esc(e.code)}</td><td>${esc(e.message)}</td></tr>`).join('')
  }
  await poll()
  const timer = setInterval(() => void poll().catch(() => {}), 2000)
  signal.addEventListener('abort', () => clearInterval(timer))
  await follow(job, draw, signal)
}
