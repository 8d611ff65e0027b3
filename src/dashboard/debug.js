// Debug: the job graph with live per-step rates; watermarks per source partition (idle and stuck ones stand out);
// the "why has this window not fired" explainer; the sources' schemas and the latest quality results; samples of
// late records and dead letters with their reasons.
import { api, esc, fmt, mayOperate, operatorButtons, say, time, wireButtons } from './util.js'
import { edgeLines, layered } from './layout.js'

/** Steps laid out in columns by their distance from the sources, as SVG boxes and edges with live rates. */
export function graphSvg(steps) {
  const nodes = steps.map((s) => ({ id: s.id, inputs: s.inputs.map((i) => i.from) }))
  const { pos, width, height } = layered(nodes)
  const boxes = steps.map((s) => {
    const p = pos.get(s.id)
    return `<g class="node" data-step="${esc(s.id)}" transform="translate(${p.x},${p.y})"><rect width="150" height="50" rx="4"/>
      <text x="8" y="18" class="id">${esc(s.id)}</text><text x="8" y="34">${esc(s.kind)}</text>
      <text x="8" y="46" class="rate" data-field="rate">${fmt(s.inPerSecond)} in/s · ${fmt(s.outPerSecond)} out/s</text></g>`
  })
  return `<svg id="graph-svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${edgeLines(nodes, pos)}${boxes.join('')}</svg>`
}

const json = (v) => esc(JSON.stringify(v))

const REGISTRY = { registered: (r) => `registered as version ${r.version} (id ${r.id})`, 'not-registered': (r) => `not registered (a compatible new version under ${r.level})`, incompatible: (r) => `INCOMPATIBLE under ${r.level}: ${r.differences.join('; ')}`, unreachable: (r) => `registry unreachable: ${r.error}` }

/** A source's contract: subject, version and registry state, its fields with the personal ones marked. */
function schemaTable(s) {
  const reg = s.registry ? ` · <span data-field="registry" class="registry-${esc(s.registry.status)}">${esc(REGISTRY[s.registry.status](s.registry))}</span>` : ''
  return `<div class="schema" data-step="${esc(s.step)}"><p><b>${esc(s.step)}</b>: contract <code>${esc(s.contract)}</code> v${s.version} (${esc(s.format)}), subject <code>${esc(s.subject)}</code>${s.owner ? `, owner ${esc(s.owner)}` : ''}${reg}</p>
    <table class="fields"><thead><tr><th>Field</th><th>Type</th><th>Personal</th></tr></thead><tbody>${s.fields.map((f) => `<tr data-field-name="${esc(f.name)}"><td>${esc(f.name)}</td><td>${esc(f.type)}</td><td class="personal" data-field="personal">${f.personal ? 'personal' : ''}</td></tr>`).join('')}</tbody></table></div>`
}

export async function renderDebug({ root, role, job, signal }) {
  const q = `/api/jobs/${encodeURIComponent(job)}`
  root.innerHTML = `<h2>Debug: ${esc(job)} ${operatorButtons(job, role)}</h2>
    <h3>Job graph</h3><div id="graph"></div>
    <h3>Watermarks per source partition</h3>
    <table id="partitions"><thead><tr><th>Source</th><th>Partition</th><th>Watermark</th><th>Silent for</th><th>State</th></tr></thead><tbody></tbody></table>
    <h3>Why has this window not fired?</h3>
    <form id="explain"><label>Step <select name="step"></select></label> <label>Key <input name="key" size="16"></label>
      <label>Event time <input name="time" size="26" placeholder="now, or ISO time or epoch ms"></label> <button>Explain</button></form>
    <div id="explanation"></div>
    <h3>Late records (a sample)</h3>
    <table id="late"><thead><tr><th>Step</th><th>Seen</th><th>Reason</th><th>Event time</th><th>Watermark then</th><th>Record</th></tr></thead><tbody></tbody></table>
    <h3>Schemas of the sources</h3><div id="schemas"></div>
    <h3>Quality (the latest result of each expectation)</h3>
    <table id="quality"><thead><tr><th>Step</th><th>Expectation</th><th>Severity</th><th>Latest</th><th>Window</th><th>Checked</th><th>Failed</th><th>Windows failed</th></tr></thead><tbody></tbody></table>
    <h3>Dead letters (the first 8) ${mayOperate(role) ? '<button data-action="redrive">Redrive to a file</button>' : ''}</h3>
    <table id="letters"><thead><tr><th>Offset</th><th>Step</th><th>Reason</th><th>Error</th><th>At</th><th>Record</th></tr></thead><tbody></tbody></table>`
  wireButtons(root)
  const redrive = root.querySelector('button[data-action="redrive"]')
  if (redrive) {
    redrive.onclick = async () => {
      try {
        const r = await api(`${q}/dead-letters/redrive`, { method: 'POST', body: JSON.stringify({ file: `redrive-${job}.jsonl` }) })
        say(`redriven ${r.redriven} (skipped ${r.skipped}, pending ${r.pending}) to ${r.target}`)
      } catch (e) {
        say(e.message)
      }
    }
  }
  const [first, schemas] = await Promise.all([api(`${q}/graph`), api(`${q}/schemas`)])
  root.querySelector('#schemas').innerHTML = schemas.map(schemaTable).join('') || '<p>No source of this job declares a contract.</p>'
  const windows = first.steps.filter((s) => s.kind.startsWith('window'))
  root.querySelector('#explain select').innerHTML = windows.map((s) => `<option>${esc(s.id)}</option>`).join('')
  root.querySelector('#explain').onsubmit = async (e) => {
    e.preventDefault()
    const f = new FormData(e.target)
    const t = String(f.get('time') ?? '').trim()
    const at = t === '' || t === 'now' ? Date.now() : /^\d+$/.test(t) ? Number(t) : Date.parse(t)
    try {
      const x = await api(`${q}/explain?step=${encodeURIComponent(f.get('step'))}&key=${encodeURIComponent(f.get('key'))}&time=${at}`)
      root.querySelector('#explanation').innerHTML = `<p class="verdict" data-field="verdict">${esc(x.verdict)}</p>
        <p>Watermark of the step: <b data-field="watermark">${time(x.watermark)}</b> · trigger: ${esc(x.trigger.kind)} · allowed lateness ${fmt(x.allowedLateness)} ms · the key ${x.keyFound ? 'holds open windows' : 'holds no open window'}</p>
        <table class="windows"><thead><tr><th>Window</th><th>Fires at</th><th>State</th><th>Why</th></tr></thead><tbody>${x.windows.map((w) => `<tr data-start="${w.start}" data-end="${w.end}"><td>${time(w.start)} – ${time(w.end)}</td><td>${time(w.firesAt)}</td><td>${esc(w.state)}</td><td>${esc(w.why)}</td></tr>`).join('')}</tbody></table>
        <p>Inputs: ${x.inputs.map((i) => `<span class="${i.holdingBack ? 'holding' : ''}">${esc(i.from)} at ${time(i.watermark)}${i.idle ? ' (idle)' : ''}${i.holdingBack ? ' ← holds it back' : ''}</span>`).join(', ') || 'none'}</p>
        ${x.holdingPartitions.length > 0 ? `<p>Source partitions behind it: ${x.holdingPartitions.map((p) => `<span class="${p.stuck ? 'stuck' : ''}">${esc(p.step)}/${p.partition} at ${time(p.watermark)}${p.stuck ? ` (stuck: no data for ${fmt(p.silentMs / 1000)} s)` : ''}</span>`).join(', ')}</p>` : ''}`
    } catch (err) {
      root.querySelector('#explanation').textContent = err.message
    }
  }
  const poll = async () => {
    const [g, wm, late, dl, quality] = await Promise.all([api(`${q}/graph`), api(`${q}/watermarks`), api(`${q}/late`), api(`${q}/dead-letters?limit=8`).catch(() => ({ letters: [] })), api(`${q}/quality`)])
    root.querySelector('#quality tbody').innerHTML = quality
      .map((e) => `<tr data-expectation="${esc(e.expectation)}" class="${e.latest.passed ? '' : 'failed'}"><td>${esc(e.step)}</td><td>${esc(e.expectation)}</td><td>${esc(e.severity)}</td>
        <td data-field="passed">${e.latest.passed ? 'passed' : 'failed'}</td><td>${e.latest.windowStart === null ? 'whole run' : `${time(e.latest.windowStart)} – ${time(e.latest.windowEnd)}`}</td>
        <td class="n" data-field="checked">${fmt(e.latest.checked)}</td><td class="n" data-field="failed">${fmt(e.latest.failed)}</td><td class="n">${fmt(e.windowsFailed)} / ${fmt(e.windows)}</td></tr>`)
      .join('') || '<tr><td colspan="8">no expectations</td></tr>'
    root.querySelector('#graph').innerHTML = graphSvg(g.steps)
    root.querySelector('#partitions tbody').innerHTML = wm.sources
      .flatMap((s) => s.partitions.map((p) => {
        const state = p.ended ? 'ended' : p.idle ? 'idle' : p.stuck ? 'stuck' : p.holding ? 'holding the watermark' : 'active'
        return `<tr data-partition="${p.partition}" class="${p.stuck ? 'stuck' : p.idle ? 'idle' : ''}"><td>${esc(s.step)}</td><td class="n">${p.partition}</td><td data-field="watermark">${time(p.watermark)}</td><td class="n">${fmt(p.silentMs / 1000, 1)} s</td><td>${state}</td></tr>`
      }))
      .join('')
    root.querySelector('#late tbody').innerHTML = late
      .flatMap((s) => s.samples.slice(-6).map((x) => `<tr data-step="${esc(s.step)}"><td>${esc(s.step)}</td><td class="n">${fmt(s.seen)}</td><td data-field="reason">${esc(x.reason ?? '')}</td><td>${time(x.time)}</td><td>${time(x.watermark)}</td><td><code>${json(x.record)}</code></td></tr>`))
      .join('') || '<tr><td colspan="6">none</td></tr>'
    root.querySelector('#letters tbody').innerHTML = dl.letters
      .map((l) => `<tr data-offset="${l.offset}"><td class="n">${l.offset}</td><td>${esc(l.step)}</td><td data-field="reason">${esc(l.reason)}</td><td>${esc(l.error.message)}</td><td>${time(l.time)}</td><td><code>${json(l.record)}</code></td></tr>`)
      .join('') || '<tr><td colspan="6">none</td></tr>'
  }
  await poll()
  const timer = setInterval(() => void poll().catch(() => {}), 1000)
  signal.addEventListener('abort', () => clearInterval(timer))
}
