import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { serviceOrSkip } from '../support/services.ts'
import { launch, serveOrders, signedIn, until, type Served } from './support.ts'

const chromium = serviceOrSkip('chromium')
// The committed screenshots are rewritten only when asked (SLUICE_SCREENSHOTS=1): a test run leaves the tree as it was.
const shotDir = process.env.SLUICE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : mkdtempSync(join(tmpdir(), 'sluice-screenshots-'))
const shots = (name: string) => join(shotDir, `${name}.png`)

let served: Served
let browser: Browser

before(async () => {
  if (chromium.skip) return
  served = await serveOrders()
  browser = await launch(String(chromium.info!.path))
})

after(async () => {
  await browser?.close()
  await served?.close()
  if (process.env.SLUICE_SCREENSHOTS !== '1') rmSync(shotDir, { recursive: true, force: true })
})

/** The number shown in `selector` (digits only, so '1,234' reads 1234). */
async function shown(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().innerText()
  return Number(text.replace(/[^\d.-]/g, ''))
}
const points = async (page: Page, selector: string) => Number(await page.locator(selector).first().getAttribute('data-points'))

type Metrics = { steps: { step: string; kind: string; recordsIn: number }[] }
const read = (m: Metrics) => m.steps.filter((t) => t.kind.startsWith('source-')).reduce((a, t) => a + t.recordsIn, 0)

test('overview: the job row agrees with the API (state, records read, SLOs), and its throughput chart moves', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const page = await signedIn(browser, served.url, served.token.viewer, '#overview')
  const row = 'tr[data-job="orders"]'
  await page.waitForSelector(`${row} [data-field="status"]:text("running")`)
  // Counters only grow: the page's value lies between the API's before and after it.
  const before = read(await served.get<Metrics>('/api/jobs/orders/metrics'))
  await until(async () => (await shown(page, `${row} [data-field="read"]`)) >= before)
  const onPage = await shown(page, `${row} [data-field="read"]`)
  const afterwards = read(await served.get<Metrics>('/api/jobs/orders/metrics'))
  assert.ok(before <= onPage && onPage <= afterwards, `${before} <= ${onPage} <= ${afterwards}`)
  const slo = await served.get<{ slo: string }[]>('/api/jobs/orders/slo', served.token.viewer)
  assert.deepEqual(await page.locator(`${row} [data-slo]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-slo'))), slo.map((s) => s.slo))
  await until(async () => /\d s behind/.test(await page.locator(`${row} [data-field="freshness"]`).innerText()))
  // The chart gains a point with every snapshot of the live stream.
  const first = await points(page, `${row} svg`)
  await until(async () => (await points(page, `${row} svg`)) > first + 1)
  await page.screenshot({ path: shots('overview') })
  await page.close()
})

test('on-call: throughput and lag charts move, backpressure per step, checkpoint history, restarts and errors agree with the API, dead-letter and late rates show', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const page = await signedIn(browser, served.url, served.token.viewer, '#oncall/orders')
  await page.waitForSelector('#backpressure tbody tr')
  const graph = await served.get<{ steps: { id: string }[] }>('/api/jobs/orders/graph')
  assert.deepEqual(await page.locator('#backpressure tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-step'))), graph.steps.map((s) => s.id))
  assert.ok((await page.locator('#backpressure tr.bottleneck').count()) <= 1)
  const t0 = await points(page, '#throughput svg')
  const l0 = await points(page, '#lag svg')
  await until(async () => (await points(page, '#throughput svg')) > t0 + 1 && (await points(page, '#lag svg')) > l0 + 1)
  await until(async () => (await page.locator('#checkpoints tbody tr').count()) > 0)
  const ids = await page.locator('#checkpoints tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))))
  const history = await served.get<{ id: number; ok: boolean }[]>('/api/jobs/orders/checkpoints')
  for (const id of ids) assert.ok(history.some((c) => c.id === id), `checkpoint ${id} is in the API's history`)
  // Every 25th order is dead-lettered and every 10th is late: both rates show once the API's counters grow.
  type Counted = { steps: { errors: number; late: number }[] }
  await until(async () => {
    const m = await served.get<Counted>('/api/jobs/orders/metrics')
    return m.steps.some((t) => t.errors > 0) && m.steps.some((t) => t.late > 0)
  })
  await until(async () => (await shown(page, '#bad [data-field="dlq"]')) > 0 && (await shown(page, '#bad [data-field="late"]')) > 0)
  // Restarts and recent errors are the API's.
  const errors = await served.get<{ restarts: number; errors: { code: string }[] }>('/api/jobs/orders/errors', served.token.viewer)
  assert.equal(await page.locator('#restarts').innerText(), `· restarts: ${errors.restarts}`)
  assert.equal(await page.locator('#errors tbody tr').count(), Math.max(1, Math.min(10, errors.errors.length)))
  await page.screenshot({ path: shots('oncall'), fullPage: true })
  await page.close()
})

test('debug: the graph, partition watermarks, the window explainer, late samples and dead letters agree with the API', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const page = await signedIn(browser, served.url, served.token.viewer, '#debug/orders')
  await page.waitForSelector('#graph-svg g.node')
  const graph = await served.get<{ steps: { id: string }[] }>('/api/jobs/orders/graph')
  assert.deepEqual((await page.locator('#graph-svg g.node').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-step')))).sort(), graph.steps.map((s) => s.id).sort())
  const wm = await served.get<{ sources: { partitions: { partition: number }[] }[] }>('/api/jobs/orders/watermarks')
  assert.equal(await page.locator('#partitions tbody tr').count(), wm.sources.flatMap((s) => s.partitions).length)

  // A window that ends in the future has not fired: the page says so, with the bounds the API gives.
  const at = Date.now() + 60_000
  await page.fill('#explain input[name="key"]', 'eu')
  await page.fill('#explain input[name="time"]', String(at))
  await page.click('#explain button')
  await page.waitForSelector('[data-field="verdict"]')
  assert.match(await page.locator('[data-field="verdict"]').innerText(), /^not fired: .*fires when the watermark reaches/)
  const api = await served.get<{ windows: { start: number; end: number }[] }>(`/api/jobs/orders/explain?step=per-region&key=eu&time=${at}`)
  assert.deepEqual(await page.locator('#explanation tr[data-start]').evaluateAll((rows) => rows.map((r) => [Number(r.getAttribute('data-start')), Number(r.getAttribute('data-end'))])), api.windows.map((w) => [w.start, w.end]))

  await until(async () => (await page.locator('#late tr[data-step]').count()) > 0 && (await page.locator('#letters tr[data-offset]').count()) > 0)
  assert.equal(await page.locator('#late [data-field="reason"]').first().innerText(), 'window-closed')
  // The contract tags the e-mail address personal: no address reaches the page, in late records or letters.
  assert.doesNotMatch(await page.locator('#late, #letters').allInnerTexts().then((t) => t.join('\n')), /@example\.com/)
  assert.match(await page.locator('#late code').first().innerText(), /"email":"\*\*\*"/)
  const letters = await served.get<{ letters: { offset: number; reason: string }[] }>('/api/jobs/orders/dead-letters?limit=8')
  assert.equal(Number(await page.locator('#letters tr[data-offset]').first().getAttribute('data-offset')), letters.letters[0]!.offset)
  assert.equal(await page.locator('#letters [data-field="reason"]').first().innerText(), 'user-function')
  assert.equal(await page.locator('button[data-action="redrive"]').count(), 0)
  await page.screenshot({ path: shots('debug'), fullPage: true })
  await page.close()
})

test('operator buttons: savepoint and redrive work for an operator; a viewer has none and the API refuses the viewer', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const viewer = await signedIn(browser, served.url, served.token.viewer, '#overview')
  await viewer.waitForSelector('tr[data-job="orders"] [data-field="status"]:text("running")')
  assert.equal(await viewer.locator('button[data-action]').count(), 0)
  assert.equal((await served.call('POST', '/api/jobs/orders/savepoint', served.token.viewer, { name: 'by-viewer' })).status, 403)
  assert.equal((await served.call('POST', '/api/jobs/orders/dead-letters/redrive', served.token.viewer, { file: 'x.jsonl' })).status, 403)
  await viewer.close()

  const operator = await signedIn(browser, served.url, served.token.operator, '#overview')
  const button = operator.locator('tr[data-job="orders"] button[data-action="savepoint"]')
  await button.waitFor()
  await button.click()
  await operator.waitForSelector('#message:text("savepoint")')
  const id = Number(/savepoint (\d+) taken/.exec(await operator.locator('#message').innerText())?.[1])
  const history = await served.get<{ id: number; savepoint?: string }[]>('/api/jobs/orders/checkpoints', served.token.viewer)
  assert.ok(history.some((c) => c.id === id && c.savepoint !== undefined), JSON.stringify(history))

  await operator.goto(`${served.url}/#debug/orders`)
  await operator.locator('button[data-action="redrive"]').click()
  await operator.waitForSelector('#message:text("redriven")')
  assert.match(await operator.locator('#message').innerText(), /^redriven [1-9]\d* .* to file:redrive-orders\.jsonl$/)
  await operator.close()
})

test('lineage: the graph agrees with the catalog API, personal datasets marked, masked columns flagged, a dataset shows its fields and lineage', { skip: chromium.skip, timeout: 120_000 }, async () => {
  type Graph = { nodes: { id: string; personal?: boolean; masked?: boolean }[]; edges: unknown[] }
  const input = `file:${served.dir}/people.jsonl`
  const output = `file:${served.dir}/people-masked.jsonl`
  // The bounded run's lineage reaches the catalog when it starts and when it completes.
  await until(async () => (await served.get<Graph>('/api/catalog/graph')).nodes.some((n) => n.id === `dataset:${output}` && n.masked === true))
  const page = await signedIn(browser, served.url, served.token.viewer, '#lineage')
  await page.waitForSelector('#lineage-svg g.node')
  const graph = await served.get<Graph>('/api/catalog/graph', served.token.viewer)
  await until(async () => (await page.locator('#lineage-svg g.node').count()) === graph.nodes.length)
  assert.deepEqual((await page.locator('#lineage-svg g.node').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node')))).sort(), graph.nodes.map((n) => n.id).sort())
  assert.equal(await page.locator('#lineage-svg line').count(), graph.edges.length)
  assert.equal(await page.locator(`#lineage-svg g[data-node="dataset:${input}"]`).getAttribute('data-personal'), 'true')
  assert.equal(await page.locator(`#lineage-svg g[data-node="dataset:${output}"]`).getAttribute('data-masked'), 'true')
  assert.ok(graph.nodes.some((n) => n.id === 'job:sluice/people'))

  // The masked output: e-mail flagged masked, the contract's personal fields marked; upstream is the input.
  await page.locator(`#lineage-svg g[data-node="dataset:${output}"]`).click()
  await page.waitForSelector('#fields tr[data-field-name]')
  const d = await served.get<{ fields: { name: string; personal: boolean; masked?: boolean }[]; upstream: string[] }>(`/api/catalog/datasets/${encodeURIComponent(output)}`)
  const rows = await page.locator('#fields tr[data-field-name]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-field-name'), tr.querySelector('[data-field="personal"]')!.textContent, tr.querySelector('[data-field="masked"]')!.textContent]))
  assert.deepEqual(rows, d.fields.map((f) => [f.name, f.personal ? 'personal' : '', f.masked ? 'masked' : '']))
  assert.deepEqual(rows.filter((r) => r[2] === 'masked').map((r) => r[0]).sort(), ['email', 'phone'])
  assert.match(await page.locator('#upstream').innerText(), new RegExp(`people\\.jsonl`))
  assert.deepEqual(d.upstream, [input])

  // The search narrows the table to the datasets with personal fields.
  await page.fill('#catalog-search input[name="tag"]', 'personal')
  await page.click('#catalog-search button')
  const personal = await served.get<{ key: string }[]>('/api/catalog/datasets?tag=personal')
  await until(async () => (await page.locator('#datasets tr[data-key]').count()) === personal.length)
  assert.deepEqual(await page.locator('#datasets tr[data-key]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-key'))), personal.map((x) => x.key))
  await page.screenshot({ path: shots('lineage'), fullPage: true })
  await page.close()
})

test("debug: the sources' schemas with personal fields and the latest quality results agree with the API", { skip: chromium.skip, timeout: 120_000 }, async () => {
  type Quality = { expectation: string; latest: { passed: boolean; checked: number; failed: number } }
  // The bounded run judges its whole input once, at its end.
  await until(async () => (await served.get<Quality[]>('/api/jobs/people/quality')).length === 2)
  const page = await signedIn(browser, served.url, served.token.viewer, '#debug/people')
  await page.waitForSelector('#quality tr[data-expectation]')
  const quality = await served.get<Quality[]>('/api/jobs/people/quality', served.token.viewer)
  const rows = await page.locator('#quality tr[data-expectation]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-expectation'), tr.querySelector('[data-field="passed"]')!.textContent, Number(tr.querySelector('[data-field="checked"]')!.textContent), Number(tr.querySelector('[data-field="failed"]')!.textContent)]))
  assert.deepEqual(rows, quality.map((q) => [q.expectation, q.latest.passed ? 'passed' : 'failed', q.latest.checked, q.latest.failed]))
  // One age of four is negative: that expectation failed on one record.
  assert.ok(rows.some((r) => r[1] === 'failed' && r[3] === 1), JSON.stringify(rows))
  const schemas = await served.get<{ step: string; fields: { name: string; personal: boolean }[] }[]>('/api/jobs/people/schemas', served.token.viewer)
  assert.equal(schemas.length, 1)
  const marked = await page.locator('#schemas .schema[data-step="people"] tr[data-field-name]').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-field-name'), tr.querySelector('[data-field="personal"]')!.textContent === 'personal']))
  assert.deepEqual(marked, schemas[0]!.fields.map((f) => [f.name, f.personal]))
  assert.deepEqual(marked.filter(([, p]) => p).map(([n]) => n), ['email', 'phone'])
  await page.screenshot({ path: shots('debug-quality'), fullPage: true })
  await page.close()
})

test('workflows: the DAG with statuses and the partition grid of a backfilled week agree with the API', { skip: chromium.skip, timeout: 120_000 }, async () => {
  type Wf = { tasks: { name: string; dependsOn: string[] }[]; partitions: string[]; runs: { task: string; partition: string; status: string }[] }
  const page = await signedIn(browser, served.url, served.token.viewer, '#workflows/daily-report')
  await page.waitForSelector('#grid td.cell')
  const wf = await served.get<Wf>('/api/workflows/daily-report', served.token.viewer)
  assert.deepEqual(wf.partitions, ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06'])
  assert.deepEqual(await page.locator('#dag-svg g.task').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-task'))), wf.tasks.map((t) => t.name))
  assert.equal(await page.locator('#dag-svg line').count(), wf.tasks.flatMap((t) => t.dependsOn).length)
  // Rows tasks, columns partitions, each cell the run's status.
  const grid = await page.locator('#grid tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-task'), [...tr.querySelectorAll('td.cell')].map((td) => `${td.getAttribute('data-partition')} ${td.getAttribute('data-status')}`)]))
  assert.deepEqual(grid, wf.tasks.map((t) => [t.name, wf.partitions.map((p) => `${p} ${wf.runs.find((r) => r.task === t.name && r.partition === p)?.status ?? 'none'}`)]))
  const status = (task: string, p: string) => page.locator(`#grid tr[data-task="${task}"] td[data-partition="${p}"]`).getAttribute('data-status')
  assert.equal(await status('transform', '2026-01-04'), 'failed')
  assert.equal(await status('publish', '2026-01-04'), 'upstream_failed')
  assert.equal(await status('publish', '2026-01-06'), 'succeeded')
  // The failed cell is coloured differently from a succeeded one.
  const colour = (task: string, p: string) => page.locator(`#grid tr[data-task="${task}"] td[data-partition="${p}"]`).evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(td).backgroundColor)
  assert.notEqual(await colour('transform', '2026-01-04'), await colour('transform', '2026-01-03'))
  assert.equal(await page.locator('#dag-svg g[data-task="publish"]').getAttribute('data-status'), 'succeeded')
  await page.screenshot({ path: shots('workflows'), fullPage: true })
  await page.close()
})
