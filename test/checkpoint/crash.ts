import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import { readDeadLetters } from '../../src/dlq/reader.ts'

export const SINKS = ['windows', 'late', 'sessions', 'process', 'errors']
const defaultChild = fileURLToPath(new URL('./fixtures/run-child.ts', import.meta.url))

/**
 * Runs the child (by default the crash pipeline's, fixtures/run-child.ts) once; kills it with SIGKILL after
 * `killAfterMs` if given (`args` replaces the arguments the crash pipeline takes; `state` sets
 * SLUICE_TEST_STATE for children that read it, else it is inherited). Resolves with how it ended.
 */
export function runChild(
  out: string,
  dir: string,
  opts: { killAfterMs?: number; failpoint?: string; count?: number; rate?: number; dlq?: boolean; child?: string; parallelism?: number; state?: 'durable'; args?: string[] } = {},
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = opts.child ?? defaultChild
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.SLUICE_FAILPOINT
    if (opts.failpoint !== undefined) env.SLUICE_FAILPOINT = opts.failpoint
    if (opts.dlq === true) env.SLUICE_TEST_DLQ = '1'
    delete env.SLUICE_TEST_PARALLELISM
    if (opts.parallelism !== undefined) env.SLUICE_TEST_PARALLELISM = String(opts.parallelism)
    if (opts.state !== undefined) env.SLUICE_TEST_STATE = opts.state
    const args = opts.args !== undefined ? [child, ...opts.args] : [child, out, dir, ...(opts.count !== undefined ? [String(opts.count)] : []), ...(opts.rate !== undefined ? [String(opts.rate)] : [])]
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.killAfterMs)
    const guard = setTimeout(() => p.kill('SIGKILL'), 120_000)
    p.on('error', reject)
    p.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      clearTimeout(guard)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** Every committed line of each sink, sorted (a multiset: duplicates show up as extra lines). */
export async function outputs(out: string, sinks: readonly string[] = SINKS): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {}
  for (const s of sinks) {
    const lines: string[] = []
    for (const f of await committedParts(`${out}/${s}`)) lines.push(...(await readFile(f, 'utf8')).split('\n').filter((l) => l !== ''))
    result[s] = lines.sort()
  }
  if (existsSync(`${out}/dlq`)) {
    // What identifies a dead letter; its processing time and offset differ from run to run.
    const letters = await readDeadLetters(`${out}/dlq`, 'crash-recovery.dlq')
    result.deadLetters = letters.map((l) => JSON.stringify({ step: l.step, reason: l.reason, error: l.error.message, record: l.record, position: l.position })).sort()
  }
  return result
}

/** A small deterministic PRNG for kill schedules. */
export function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
