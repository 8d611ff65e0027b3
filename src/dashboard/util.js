// What every view of the dashboard shares: API calls with the token, the live stream, formatting, buttons.
const $ = (s) => document.querySelector(s)
const token = () => sessionStorage.getItem('sluice-token') ?? ''

export const api = async (path, init = {}) => {
  const res = await fetch(path, { ...init, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' } })
  if (res.status === 401) {
    // A token that is gone (or was never right): back to the sign-in form.
    sessionStorage.removeItem('sluice-token')
    location.reload()
    throw new Error('sign in with a token')
  }
  const body = await res.json()
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`)
  return body
}
export const fmt = (n, digits = 0) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }))
export const time = (ms) => (ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : new Date(ms).toISOString().slice(11, 23))
export const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`)
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
export const say = (msg) => {
  $('#message').textContent = msg
}
export const mayOperate = (role) => role === 'operator' || role === 'admin'

/** Reads a job's Server-Sent Events through fetch; calls `onMetrics` with each snapshot until `signal` aborts. */
export async function follow(job, onMetrics, signal) {
  const res = await fetch(`/api/jobs/${encodeURIComponent(job)}/stream`, { headers: { authorization: `Bearer ${token()}` }, signal })
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
      if (event === 'metrics') onMetrics(JSON.parse(data))
    }
  }
}

/** A savepoint or stop asked from a button; the outcome is shown in the message line. */
export async function act(job, action) {
  try {
    const body = action === 'savepoint' ? JSON.stringify({ name: `ui-${new Date().toISOString().replace(/[:.]/g, '-')}` }) : undefined
    const r = await api(`/api/jobs/${encodeURIComponent(job)}/${action}`, { method: 'POST', ...(body ? { body } : {}) })
    say(action === 'savepoint' ? `savepoint ${r.id} taken` : 'stopping')
  } catch (e) {
    say(e.message)
  }
}

/** Buttons for the commands the role may use: none for a viewer. */
export function operatorButtons(job, role) {
  if (!mayOperate(role)) return ''
  return `<button data-action="savepoint" data-job="${esc(job)}">Savepoint</button><button data-action="stop" data-job="${esc(job)}">Stop</button>`
}

export function wireButtons(root) {
  for (const b of root.querySelectorAll('button[data-action="savepoint"], button[data-action="stop"]')) b.onclick = () => act(b.dataset.job, b.dataset.action)
}

