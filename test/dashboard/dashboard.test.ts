import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { serviceOrSkip } from '../support/services.ts'
import { launch, serveOrders, signedIn, until, type Served } from './support.ts'

const chromium = serviceOrSkip('chromium')
const shots = (name: string) => fileURLToPath(new URL(`../../docs/screenshots/${name}.png`, import.meta.url))

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
})

/** The number shown in `selector` (digits only, so '1,234' reads 1234). */
async function shown(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().innerText()
  return Number(text.replace(/[^\d.-]/g, ''))
}

type Metrics = { steps: { step: string; recordsIn: number }[] }

test('overview: the job row agrees with the API, and its throughput chart moves', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const page = await signedIn(browser, served.url, served.token.viewer, '#overview')
  const row = 'tr[data-job="orders"]'
  await page.waitForSelector(`${row} [data-field="status"]:text("running")`)
  // Counters only grow: the page's value lies between the API's before and after it.
  const before = (await served.get<Metrics>('/api/jobs/orders/metrics')).steps[0]!.recordsIn
  await until(async () => (await shown(page, `${row} [data-field="recordsIn"]`)) >= before)
  const onPage = await shown(page, `${row} [data-field="recordsIn"]`)
  const afterwards = (await served.get<Metrics>('/api/jobs/orders/metrics')).steps[0]!.recordsIn
  assert.ok(before <= onPage && onPage <= afterwards, `${before} <= ${onPage} <= ${afterwards}`)
  // The chart gains a point with every snapshot of the live stream.
  const points = async () => Number(await page.locator(`${row} svg`).first().getAttribute('data-points'))
  const first = await points()
  await until(async () => (await points()) > first + 1)
  await page.screenshot({ path: shots('overview') })
  await page.close()
})

test('the savepoint button works for an operator; a viewer has none and the API refuses the viewer', { skip: chromium.skip, timeout: 120_000 }, async () => {
  const viewer = await signedIn(browser, served.url, served.token.viewer, '#overview')
  await viewer.waitForSelector('tr[data-job="orders"] [data-field="status"]:text("running")')
  assert.equal(await viewer.locator('button[data-action="savepoint"]').count(), 0)
  const refused = await served.call('POST', '/api/jobs/orders/savepoint', served.token.viewer, { name: 'by-viewer' })
  assert.equal(refused.status, 403)
  await viewer.close()

  const operator = await signedIn(browser, served.url, served.token.operator, '#overview')
  const button = operator.locator('tr[data-job="orders"] button[data-action="savepoint"]')
  await button.waitFor()
  await button.click()
  await operator.waitForSelector('#error:text("savepoint")')
  const id = Number(/savepoint (\d+) taken/.exec(await operator.locator('#error').innerText())?.[1])
  const history = await served.get<{ id: number; savepoint?: string }[]>('/api/jobs/orders/checkpoints', served.token.viewer)
  assert.ok(history.some((c) => c.id === id && c.savepoint !== undefined), JSON.stringify(history))
  await operator.close()
})
