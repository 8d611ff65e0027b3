// Runs the commands of the README in order and checks what each left behind.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))

function sluice(args: string[], status = 0): string {
  const r = spawnSync(process.execPath, ['bin/sluice.js', ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, status, `sluice ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

test('contracts-bids: violations to dead letters with field and rule, quality per minute, the report', () => {
  rmSync(out, { recursive: true, force: true })
  const run = JSON.parse(sluice(['run', 'examples/contracts-bids/pipeline.ts', '--json']).trim()) as { recordsIn: number; errors: number; steps: { step: string; violations?: Record<string, number>; quality?: Record<string, { windows: number; windowsFailed: number }> }[] }
  assert.deepEqual([run.recordsIn, run.errors], [34, 11])
  // the summary counts the violations per rule
  assert.deepEqual(run.steps.find((s) => s.step === 'source-jsonl-1')!.violations, { '/price type': 4, '/channel inSet': 4, '/bidder required': 3 })
  // and the expectations' results per expectation
  const quality = run.steps.find((s) => s.step === 'bid-quality')!.quality!
  assert.deepEqual(Object.entries(quality).map(([name, q]) => [name, q.windows, q.windowsFailed]), [['bidder:unique', 3, 1], ['rowCount', 3, 1], ['price:distribution', 3, 0]])
  assert.equal(readFileSync(`${out}prices.jsonl`, 'utf8').trim().split('\n').length, 34)
  assert.match(sluice(['dlq', 'list', 'examples/contracts-bids/out/log']), /bids\.dlq: 11 letters[\s\S]*source-jsonl-1\s+validation\s+11/)
  const letters = sluice(['dlq', 'show', 'examples/contracts-bids/out/log', '--topic', 'bids.dlq', '--json'])
  assert.match(letters, /field '\/price' must be integer \(rule type\)/)
  assert.match(letters, /subject bids-value, version 1/)
  const report = JSON.parse(sluice(['quality', 'report', 'examples/contracts-bids/out/quality.jsonl'], 3)) as { passed: boolean; expectations: { expectation: string; windows: number; windowsFailed: number }[] }
  assert.equal(report.passed, false)
  assert.deepEqual(report.expectations.map((e) => [e.expectation, e.windows, e.windowsFailed]), [
    ['bidder:unique', 3, 1],
    ['rowCount', 3, 1],
    ['price:distribution', 3, 0],
  ])
  sluice(['quality', 'report', 'examples/contracts-bids/out/quality.jsonl', '--html', 'examples/contracts-bids/out/quality.html'], 3)
  assert.match(readFileSync(`${out}quality.html`, 'utf8'), /<tr class="fail"><td>fail<\/td><td>bid-quality<\/td><td>bidder:unique<\/td>/)
})
