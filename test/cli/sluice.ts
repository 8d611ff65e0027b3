import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root (tests run the CLI from there, as a user would). */
export const root = fileURLToPath(new URL('../../', import.meta.url))
export const bin = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url))

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `sluice ...args` to completion in the repository root (or `opts.cwd`). */
export function sluice(args: string[], opts: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {}): Result {
  const env = { ...process.env, SLUICE_DEBUG: '', ...opts.env }
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: opts.timeoutMs ?? 240_000, env })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * Starts `sluice ...args` and calls `onOutput` with the output so far whenever some arrives, so a test
 * can send signals at the right moment. The child is killed if it is still running after `timeoutMs`.
 */
export function sluiceLive(args: string[], onOutput: (out: { stdout: string; stderr: string }, signal: (s: NodeJS.Signals) => void) => void, timeoutMs = 240_000): Promise<Result> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, SLUICE_DEBUG: '' } })
  let stdout = ''
  let stderr = ''
  const send = (s: NodeJS.Signals) => void child.kill(s)
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    onOutput({ stdout, stderr }, send)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    onOutput({ stdout, stderr }, send)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    }),
  )
}
