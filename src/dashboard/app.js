// The dashboard: plain modules, no build step. Every call carries the token in the Authorization header,
// the live stream too (read with fetch rather than EventSource, which cannot send headers).
const $ = (s) => document.querySelector(s)
const token = () => sessionStorage.getItem('sluice-token') ?? ''
const api = async (path, init = {}) => {
  const res = await fetch(path, { ...init, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' } })
  if (res.status === 401) { sessionStorage.removeItem('sluice-token'); showLogin(); throw new Error('sign in with a token') }
  const body = await res.json()
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`)
  return body
}
const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '–' : Math.round(n).toLocaleString('en'))
const time = (ms) => (ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : new Date(ms).toISOString().slice(11, 19))
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function showLogin() {
  $('#login').hidden = false
  $('#login').onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('sluice-token', $('#token').value.trim()); location.reload() }
}

/** Throughput samples per job for the sparkline: the last 60 rates. */
const series = new Map()
const last = new Map()

function sparkline(points) {
  const max = Math.max(1, ...points)
  const xy = points.map((v, i) => `${(i * 120) / 59},${24 - (v / max) * 22}`).join(' ')
  return `<svg width="120" height="26" data-points="${points.length}"><polyline points="${xy}"/></svg>`
}

function renderJob(name, status, metrics, role) {
  const src = metrics.steps[0] ?? { recordsIn: 0 }
  const prev = last.get(name)
  const rate = prev && metrics.takenAt > prev.takenAt ? ((src.recordsIn - prev.recordsIn) * 1000) / (metrics.takenAt - prev.takenAt) : 0
  last.set(name, { takenAt: metrics.takenAt, recordsIn: src.recordsIn })
  const s = series.get(name) ?? []
  s.push(rate)
  if (s.length > 60) s.shift()
  series.set(name, s)
  const wm = Math.min(...metrics.steps.map((t) => t.watermark ?? Infinity))
  const late = metrics.steps.reduce((a, t) => a + t.late, 0)
  const errors = metrics.steps.reduce((a, t) => a + t.errors, 0)
  const mayOperate = role === 'operator' || role === 'admin'
  let row = document.querySelector(`tr[data-job="${CSS.escape(name)}"]`)
  if (!row) {
    row = document.createElement('tr')
    row.dataset.job = name
    $('#jobs tbody').append(row)
  }
  row.innerHTML = `<td>${esc(name)}</td><td class="status-${esc(status.status)}" data-field="status">${esc(status.status)}</td>
    <td class="n" data-field="recordsIn">${fmt(src.recordsIn)}</td><td class="n" data-field="rate">${fmt(rate)}</td><td>${sparkline(s)}</td>
    <td data-field="watermark">${time(wm)}</td><td class="n" data-field="checkpoints">${fmt(metrics.checkpoints.completed)}</td>
    <td class="n" data-field="late">${fmt(late)}</td><td class="n" data-field="errors">${fmt(errors)}</td>
    <td>${mayOperate ? `<button data-action="savepoint">Savepoint</button><button data-action="stop">Stop</button>` : ''}</td>`
  for (const b of row.querySelectorAll('button')) b.onclick = () => act(name, b.dataset.action)
}

async function act(job, action) {
  try {
    const body = action === 'savepoint' ? JSON.stringify({ name: `ui-${new Date().toISOString().replace(/[:.]/g, '-')}` }) : undefined
    const r = await api(`/api/jobs/${encodeURIComponent(job)}/${action}`, { method: 'POST', ...(body ? { body } : {}) })
    $('#error').textContent = action === 'savepoint' ? `savepoint ${r.id} taken` : 'stopping'
  } catch (e) {
    $('#error').textContent = e.message
  }
}

async function renderSteps(job) {
  const g = await api(`/api/jobs/${encodeURIComponent(job)}/graph`)
  $('#steps').hidden = false
  $('#steps tbody').innerHTML = g.steps.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.kind)}</td><td>${esc(s.inputs.map((i) => i.from + (i.tag ? `[${i.tag}]` : '')).join(', '))}</td>
    <td class="n">${fmt(s.inPerSecond)}</td><td class="n">${fmt(s.outPerSecond)}</td><td>${time(s.watermark)}</td><td class="n">${fmt(s.inputLagMs)}</td><td class="n">${fmt(s.backpressureMs)}</td></tr>`).join('')
}

/** Reads the job's Server-Sent Events through fetch and renders each metrics snapshot. */
async function follow(name, role) {
  const res = await fetch(`/api/jobs/${encodeURIComponent(name)}/stream`, { headers: { authorization: `Bearer ${token()}` } })
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buf += value
    let i
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i)
      buf = buf.slice(i + 2)
      const event = /^event: (.*)$/m.exec(chunk)?.[1]
      const data = chunk.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
      if (event === 'metrics') {
        const m = JSON.parse(data)
        renderJob(name, m.status, m.metrics, role)
        void renderSteps(name).catch(() => {})
      }
    }
  }
}

async function main() {
  if (!token()) return showLogin()
  try {
    const me = await api('/api/whoami')
    $('#who').textContent = `· ${me.role}`
    $('#jobs').hidden = false
    for (const j of await api('/api/jobs')) void follow(j.name, me.role)
  } catch (e) {
    $('#error').textContent = e.message
  }
}
void main()
