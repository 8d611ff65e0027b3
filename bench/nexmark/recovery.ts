// `npm run bench -- nexmark-recovery`: a Nexmark query killed with SIGKILL right after a checkpoint, then
// restarted from it in a fresh process (with its own heap limit): does the restore fit, and what it costs.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { run } from '../../src/index.ts'
import { nexmarkPipeline } from './pipeline.ts'
import { queries } from './queries.ts'
import { resultSink } from './results.ts'

const usage = `Usage: npm run bench -- nexmark-recovery --query <qN> [--events N] [--state durable|heap]
                              [--kill-at K] [--checkpoint-interval ms] [--heap MB]
Runs the query with checkpoints into a temporary folder, kills the process with SIGKILL just after
checkpoint K completed (default 3), then runs it again from that checkpoint in a new process whose
heap is limited to --heap MB (default 1024), and prints one JSON line: the restored checkpoint's size,
the restore's time, and the second run's wall time, CPU time and peak RSS.`

interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function child(args: string[], heapMb: number, failpoint?: string): Promise<ChildResult> {
  const env = { ...process.env }
  delete env.SLUICE_FAILPOINT
  if (failpoint !== undefined) env.SLUICE_FAILPOINT = failpoint
  const p = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, fileURLToPath(import.meta.url), '--child', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  p.stdout.on('data', (d) => (stdout += d))
  p.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve, reject) => {
    p.on('error', reject)
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** In the child: one run of the query with checkpoints in `dir` (restoring from the newest there, if any). */
async function runChild(query: string, events: number, state: 'heap' | 'durable', dir: string, intervalMs: number): Promise<void> {
  const q = queries[query]
  const out = resultSink<object>()
  const p = nexmarkPipeline(q, events, {}, out)
  p.options.state = { backend: state }
  const cpu = process.cpuUsage()
  const started = performance.now()
  const summary = await run(p, { checkpoint: { dir, intervalMs } })
  const used = process.cpuUsage(cpu)
  const c = summary.checkpoints
  console.log(
    JSON.stringify({
      status: summary.status,
      restoredFrom: c?.restoredFrom ?? null,
      restoreMs: c?.restoreMs ?? null,
      wallSeconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      records: out.records,
    }),
  )
}

const OPTIONS = {
  query: { type: 'string' },
  events: { type: 'string', default: '1000000' },
  state: { type: 'string', default: 'durable' },
  'kill-at': { type: 'string', default: '3' },
  'checkpoint-interval': { type: 'string', default: '10000' },
  heap: { type: 'string', default: '1024' },
  // The two runs: a child process each, with the checkpoint folder.
  child: { type: 'boolean', default: false },
  dir: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (values.help || values.query === undefined || queries[values.query] === undefined) {
    console.log(usage)
    if (!values.help) process.exitCode = 2
    return
  }
  const events = Number(values.events)
  const state = values.state === 'heap' ? 'heap' : 'durable'
  const intervalMs = Number(values['checkpoint-interval'])
  if (values.child) return runChild(values.query, events, state, values.dir!, intervalMs)
  const heapMb = Number(values.heap)
  const dir = mkdtempSync(join(tmpdir(), `nexmark-recovery-${values.query}-`))
  try {
    const args = ['--query', values.query, '--events', String(events), '--state', state, '--checkpoint-interval', String(intervalMs), '--dir', dir]
    const killed = await child(args, heapMb, `checkpoint-after-commit:${values['kill-at']}`)
    if (killed.signal !== 'SIGKILL') throw new Error(`the first run was not killed at checkpoint ${values['kill-at']} (exit ${killed.code}): ${killed.stderr.slice(-2000)}`)
    const again = await child(args, heapMb)
    if (again.code !== 0) throw new Error(`the restarted run failed (exit ${again.code}, ${again.signal ?? 'no signal'}): ${again.stderr.slice(-2000)}`)
    const line = again.stdout.trim().split('\n').pop()!
    console.log(JSON.stringify({ query: values.query, events, state, killAt: Number(values['kill-at']), heapMb, ...JSON.parse(line) }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv.includes('--child')) await main(process.argv.slice(2))
