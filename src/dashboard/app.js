// The dashboard: plain modules, no build step. Views chosen by the address's hash: #overview (every job),
// #oncall/<job>, #debug/<job>, #lineage (the catalog) and
// #workflows/<workflow>. Every call carries the token in the Authorization header, the live stream too
// (read with fetch rather than EventSource, which cannot send headers).
import { api, say } from './util.js'
import { renderOverview } from './overview.js'
import { renderOncall } from './oncall.js'
import { renderDebug } from './debug.js'
import { renderLineage } from './lineage.js'
import { renderWorkflows } from './workflows.js'

const $ = (s) => document.querySelector(s)

function showLogin() {
  $('#login').hidden = false
  $('#login').onsubmit = (e) => {
    e.preventDefault()
    sessionStorage.setItem('sluice-token', $('#token').value.trim())
    location.reload()
  }
}

let current
async function route(me, jobs) {
  current?.abort()
  current = new AbortController()
  const [view, job] = (location.hash.slice(1) || 'overview').split('/')
  const name = decodeURIComponent(job ?? jobs[0]?.name ?? '')
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('here', a.dataset.view === view)
  for (const a of document.querySelectorAll('nav a[data-view="oncall"], nav a[data-view="debug"]')) a.href = `#${a.dataset.view}/${encodeURIComponent(name)}`
  const root = $('#view')
  root.innerHTML = ''
  root.dataset.view = view
  say('')
  const ctx = { root, role: me.role, jobs, job: name, target: job === undefined ? undefined : decodeURIComponent(job), signal: current.signal }
  try {
    if (view === 'oncall') await renderOncall(ctx)
    else if (view === 'debug') await renderDebug(ctx)
    else if (view === 'lineage') await renderLineage(ctx)
    else if (view === 'workflows') await renderWorkflows(ctx)
    else await renderOverview(ctx)
  } catch (e) {
    if (e.name !== 'AbortError') say(e.message)
  }
}

async function main() {
  if (!sessionStorage.getItem('sluice-token')) return showLogin()
  try {
    const me = await api('/api/whoami')
    $('#who').textContent = `· ${me.role}`
    $('nav').hidden = false
    const jobs = await api('/api/jobs')
    addEventListener('hashchange', () => void route(me, jobs))
    await route(me, jobs)
  } catch (e) {
    say(e.message)
  }
}
void main()
