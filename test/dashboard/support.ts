import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** `sluice serve` over the paced orders pipeline and a bounded run over people (lineage into a catalog), with a token per role. */
export interface Served {
  url: string
  /** Folder of the run's files (people.jsonl, people-masked.jsonl, the catalog). */
  dir: string
  token: Record<'viewer' | 'operator' | 'admin', string>
  call(method: string, path: string, token: string, body?: unknown): Promise<Response>
  get<T>(path: string, token?: string): Promise<T>
  close(): Promise<void>
}

export async function serveOrders(): Promise<Served> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dashboard-'))
  const people = [1, 2, 3, 4].map((id) => ({ id, email: `person${id}@example.com`, phone: `+33 6 00 00 00 0${id}`, city: ['Lyon', 'Nice'][id % 2], age: id === 3 ? -1 : 20 + id }))
  await writeFile(join(dir, 'people.jsonl'), people.map((x) => JSON.stringify(x)).join('\n') + '\n')
  // A week of the daily workflow backfilled before the server starts: the grid has every outcome but running.
  const store = join(dir, 'workflows.db')
  const backfill = spawn(process.execPath, [join(root, 'bin', 'sluice.js'), 'workflow', 'backfill', 'test/dashboard/fixtures/workflow.ts', '--from', '2026-01-01', '--to', '2026-01-06', '--store', store], { cwd: root, stdio: 'ignore' })
  await new Promise((resolve) => backfill.on('exit', resolve))
  const args = ['serve', '--workflow', 'test/dashboard/fixtures/workflow.ts', '--workflow-store', store, 'test/dashboard/fixtures/orders.ts', 'test/dashboard/fixtures/people.ts', '--port', '0', '--state-dir', join(dir, 'server'), '--checkpoint-dir', join(dir, 'cp'), '--checkpoint-interval', '1000', '--catalog', join(dir, 'catalog')]
  const params = { log: join(dir, 'log'), people: join(dir, 'people.jsonl'), out: join(dir, 'people-masked.jsonl') }
  const child: ChildProcess = spawn(process.execPath, [join(root, 'bin', 'sluice.js'), ...args, ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]), '--no-check'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const { url, admin } = await new Promise<{ url: string; admin: string }>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
      const u = /control plane on (http:\/\/\S+)/.exec(stderr)
      const t = /^\s+(slc_\S+)$/m.exec(stderr)
      if (u && t) resolve({ url: u[1]!, admin: t[1]! })
    })
    void exited.then(() => reject(new Error(`sluice serve exited: ${stderr}`)))
  })
  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  const mint = async (role: string) => ((await (await call('POST', '/api/tokens', admin, { role })).json()) as { token: string }).token
  const token = { admin, operator: await mint('operator'), viewer: await mint('viewer') }
  return {
    url,
    dir,
    token,
    call,
    async get<T>(path: string, tok = admin) {
      const res = await call('GET', path, tok)
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
      return (await res.json()) as T
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
        await exited
        clearTimeout(t)
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A headless Chromium (the binary `npm run services -- chromium` found) driven by playwright-core. */
export async function launch(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

/** A page signed in with `token`, on the dashboard at `hash` (e.g. '#overview'). */
export async function signedIn(browser: Browser, url: string, token: string, hash = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 })
  await page.addInitScript((t) => sessionStorage.setItem('sluice-token', t), token)
  await page.goto(`${url}/${hash}`)
  return page
}

/** Polls `ok` every 100 ms until it holds (the test's own timeout bounds the wait). */
export async function until(ok: () => Promise<boolean>): Promise<void> {
  while (!(await ok())) await new Promise((r) => setTimeout(r, 100))
}
