// The generated rules and dashboard in this folder are what `sluice slo` makes of the pipeline today, and
// the pipeline runs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

function sluice(...args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/sluice.js', ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 })
  assert.equal(r.status, 0, `sluice ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

test('monitored-orders: rules.yml and dashboard.json are generated from the pipeline, unchanged since', () => {
  assert.equal(sluice('slo', 'rules', 'examples/monitored-orders/pipeline.ts'), readFileSync(here('rules.yml'), 'utf8'), 'run the sluice slo rules command of pipeline.ts again')
  assert.equal(sluice('slo', 'dashboard', 'examples/monitored-orders/pipeline.ts'), readFileSync(here('dashboard.json'), 'utf8'), 'run the sluice slo dashboard command of pipeline.ts again')
})

test('monitored-orders: a bounded run writes totals per region and window', () => {
  rmSync(here('out'), { recursive: true, force: true })
  const summary = JSON.parse(sluice('run', 'examples/monitored-orders/pipeline.ts', '--param', 'count=3000', '--param', 'rate=3000', '--json').trim()) as { recordsIn: number; errors: number }
  assert.equal(summary.recordsIn, 3000)
  const rows = readFileSync(here('out/per-region.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { orders: number })
  assert.equal(rows.reduce((n, r) => n + r.orders, 0) + summary.errors, 3000)
})
