// Lineage: the catalog's datasets and jobs as a graph (reads and writes as edges), datasets with fields tagged
// personal marked and those masked on the way in flagged; a dataset's fields, schema versions, upstream and
// downstream when it is picked; a search by name, tag and field.
import { api, esc, time } from './util.js'
import { edgeLines, layered } from './layout.js'

const W = 170

/** The lineage graph as SVG: datasets as boxes, jobs as rounded boxes with the state of their last run. */
export function lineageSvg(graph) {
  const nodes = graph.nodes.map((n) => ({ id: n.id, inputs: graph.edges.filter((e) => e.to === n.id).map((e) => e.from) }))
  const { pos, width, height } = layered(nodes, { dx: 230, dy: 64 })
  const boxes = graph.nodes.map((n) => {
    const p = pos.get(n.id)
    const marks = [n.personal ? '<tspan class="personal">personal</tspan>' : '', n.masked ? '<tspan class="masked">masked</tspan>' : ''].filter(Boolean).join(' ')
    const sub = n.kind === 'job' ? `job · ${esc(n.state ?? 'never run')}` : marks || 'dataset'
    return `<g class="node ${n.kind}" data-node="${esc(n.id)}" data-personal="${n.personal === true}" data-masked="${n.masked === true}" transform="translate(${p.x},${p.y})">
      <rect width="${W}" height="44" rx="${n.kind === 'job' ? 14 : 3}"/><title>${esc(n.id)}</title>
      <text x="8" y="18" class="id">${esc(n.label.length > 26 ? `…${n.label.slice(-25)}` : n.label)}</text><text x="8" y="34">${sub}</text></g>`
  })
  return `<svg id="lineage-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${edgeLines(nodes, pos, { w: W, h: 44 })}${boxes.join('')}</svg>`
}

const list = (xs) => (xs.length === 0 ? 'none' : xs.map((x) => `<code>${esc(x)}</code>`).join(', '))

async function showDataset(root, key) {
  const d = await api(`/api/catalog/datasets/${encodeURIComponent(key)}`)
  for (const g of root.querySelectorAll('#lineage-svg g.node')) g.classList.toggle('picked', g.dataset.node === `dataset:${key}`)
  root.querySelector('#dataset').innerHTML = `<h3>${esc(d.key)}</h3>
    <p>Owner: ${esc(d.owner ?? '–')} · last written ${d.lastWritten ? esc(d.lastWritten) : '–'} · last read ${d.lastRead ? esc(d.lastRead) : '–'}</p>
    <table id="fields"><thead><tr><th>Field</th><th>Type</th><th>Personal</th><th>Masked</th></tr></thead><tbody>${d.fields
      .map((f) => `<tr data-field-name="${esc(f.name)}" class="${f.personal ? 'personal' : ''}"><td>${esc(f.name)}</td><td>${esc(f.type ?? '')}</td><td data-field="personal">${f.personal ? 'personal' : ''}</td><td data-field="masked">${f.masked ? 'masked' : ''}</td></tr>`)
      .join('') || '<tr><td colspan="4">no schema known</td></tr>'}</tbody></table>
    <p>Schema versions: ${d.versions.map((v) => `v${v.version}${v.contract ? ` (${esc(v.contract)})` : ''} ${esc(v.fields.join(', '))}`).join(' · ') || 'none'}</p>
    <p id="upstream">Upstream: ${list(d.upstream)}</p><p id="downstream">Downstream: ${list(d.downstream)}</p>
    <p>Written by ${list(d.writers)}; read by ${list(d.readers)}</p>
    ${d.quality.length > 0 ? `<p>Quality: ${d.quality.map((q) => `<span class="${q.success ? 'slo-met' : 'slo-breached'}">${esc(q.assertion)}${q.column ? ` (${esc(q.column)})` : ''}</span>`).join(', ')}</p>` : ''}`
}

export async function renderLineage({ root, signal }) {
  root.innerHTML = `<h2>Lineage</h2>
    <form id="catalog-search"><label>Name <input name="q" size="18"></label> <label>Tag <input name="tag" size="10" placeholder="personal"></label>
      <label>Field <input name="field" size="12"></label> <button>Search</button></form>
    <div id="lineage"></div>
    <table id="datasets"><thead><tr><th>Dataset</th><th>Owner</th><th>Fields</th><th>Personal</th><th>Masked</th><th>Last written</th></tr></thead><tbody></tbody></table>
    <div id="dataset"></div>`
  const pick = (key) => void showDataset(root, key).catch((e) => (root.querySelector('#dataset').textContent = e.message))
  const search = async (query = '') => {
    const found = await api(`/api/catalog/datasets${query}`)
    root.querySelector('#datasets tbody').innerHTML = found
      .map((d) => `<tr data-key="${esc(d.key)}"><td><a href="#lineage">${esc(d.key)}</a></td><td>${esc(d.owner ?? '')}</td><td class="n">${d.fields.length}</td>
        <td class="personal" data-field="personal">${esc(d.personal.join(', '))}</td><td class="masked" data-field="masked">${esc((d.masked ?? []).join(', '))}</td><td>${d.lastWritten ? time(Date.parse(d.lastWritten)) : '–'}</td></tr>`)
      .join('') || '<tr><td colspan="6">none</td></tr>'
    for (const a of root.querySelectorAll('#datasets tr[data-key] a')) a.onclick = (e) => (e.preventDefault(), pick(a.closest('tr').dataset.key))
  }
  root.querySelector('#catalog-search').onsubmit = (e) => {
    e.preventDefault()
    const p = new URLSearchParams([...new FormData(e.target)].filter(([, v]) => v !== ''))
    void search(p.size > 0 ? `?${p}` : '')
  }
  const draw = async () => {
    root.querySelector('#lineage').innerHTML = lineageSvg(await api('/api/catalog/graph'))
    for (const g of root.querySelectorAll('#lineage-svg g.dataset')) g.onclick = () => pick(g.dataset.node.slice('dataset:'.length))
  }
  await Promise.all([draw(), search()])
  // Lineage grows as runs report; the graph is read again every 5 s.
  const timer = setInterval(() => void draw().catch(() => {}), 5000)
  signal.addEventListener('abort', () => clearInterval(timer))
}
