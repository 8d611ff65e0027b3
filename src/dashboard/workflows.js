// Workflows: each workflow's DAG with its tasks' run counts (a task's box takes the colour of its newest
// partition's run) and a partition grid like Dagster's: rows tasks, columns partitions, colour by outcome.
import { api, esc, fmt, time } from './util.js'
import { edgeLines, layered } from './layout.js'

const LABEL = { pending: 'queued', running: 'running', retrying: 'retrying', succeeded: 'succeeded', failed: 'failed', upstream_failed: 'upstream failed', cancelled: 'cancelled' }

/** The DAG as SVG: a box per task, coloured by the status of its run in the newest partition. */
export function dagSvg(wf) {
  const nodes = wf.tasks.map((t) => ({ id: t.name, inputs: t.dependsOn }))
  const { pos, width, height } = layered(nodes, { dx: 200, dy: 64 })
  const newest = wf.partitions.at(-1)
  const boxes = wf.tasks.map((t) => {
    const p = pos.get(t.name)
    const status = wf.runs.find((r) => r.task === t.name && r.partition === newest)?.status ?? 'none'
    const counts = Object.entries(t.runs).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${LABEL[s] ?? s}`).join(' · ') || 'no runs'
    return `<g class="task run-${esc(status)}" data-task="${esc(t.name)}" data-status="${esc(status)}" transform="translate(${p.x},${p.y})"><rect width="160" height="44" rx="4"/>
      <title>${esc(counts)}</title><text x="8" y="18" class="id">${esc(t.name)} <tspan class="kind">${esc(t.kind)}</tspan></text><text x="8" y="34" data-field="counts">${esc(counts.length > 30 ? `${counts.slice(0, 29)}…` : counts)}</text></g>`
  })
  return `<svg id="dag-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${edgeLines(nodes, pos, { w: 160, h: 44 })}${boxes.join('')}</svg>`
}

/** Rows tasks, columns partitions; each cell a run's status (title: attempts, times, error). */
export function partitionGrid(wf) {
  const cell = new Map(wf.runs.map((r) => [`${r.task}\u0000${r.partition}`, r]))
  const head = wf.partitions.map((p) => `<th class="partition" title="${esc(p)}">${esc(p)}</th>`).join('')
  const rows = wf.tasks.map((t) => `<tr data-task="${esc(t.name)}"><th>${esc(t.name)}</th>${wf.partitions
    .map((p) => {
      const r = cell.get(`${t.name}\u0000${p}`)
      if (r === undefined) return `<td class="cell run-none" data-partition="${esc(p)}" data-status="none"></td>`
      const title = `${p} · ${LABEL[r.status] ?? r.status} · ${r.attempts} attempt(s)${r.startedAt ? ` · started ${time(r.startedAt)}` : ''}${r.endedAt ? ` · ended ${time(r.endedAt)}` : ''}${r.error ? ` · ${r.error}` : ''}`
      return `<td class="cell run-${esc(r.status)}" data-partition="${esc(p)}" data-status="${esc(r.status)}" title="${esc(title)}"></td>`
    })
    .join('')}</tr>`)
  return `<table id="grid"><thead><tr><th>Task</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`
}

const legend = () => `<p class="legend">${Object.entries(LABEL).map(([s, l]) => `<span><i class="cell run-${s}"></i> ${l}</span>`).join(' ')}</p>`

export async function renderWorkflows({ root, target, signal }) {
  const list = await api('/api/workflows')
  const name = target || list[0]?.name
  root.innerHTML = `<h2>Workflows</h2>
    <p id="workflow-list">${list.map((w) => `<a href="#workflows/${encodeURIComponent(w.name)}" data-workflow="${esc(w.name)}" class="${w.name === name ? 'here' : ''}">${esc(w.name)}</a> <small>(${fmt(w.runs.succeeded)} succeeded, ${fmt(w.runs.failed)} failed)</small>`).join(' · ') || 'No workflow has runs yet.'}</p>
    <div id="workflow"></div>`
  if (name === undefined) return
  const draw = async () => {
    const wf = await api(`/api/workflows/${encodeURIComponent(name)}`)
    root.querySelector('#workflow').innerHTML = `<h3>${esc(wf.name)}${wf.schedule ? ` <small>${esc(wf.schedule)}</small>` : ''}</h3>
      <div id="dag">${dagSvg(wf)}</div><h3>Partitions (the latest ${wf.partitions.length})</h3>${partitionGrid(wf)}${legend()}`
  }
  await draw()
  const timer = setInterval(() => void draw().catch(() => {}), 2000)
  signal.addEventListener('abort', () => clearInterval(timer))
}
