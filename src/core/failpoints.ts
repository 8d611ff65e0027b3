/**
 * Crash points for recovery tests: when the environment variable SLUICE_FAILPOINT names this point (as
 * `name` or `name:N` for its N-th pass), the process kills itself with SIGKILL right there, as a power cut
 * would stop it. Only checkpoint and commit paths call this, never the per-record path.
 */
const spec = process.env.SLUICE_FAILPOINT
const [target, nth] = spec === undefined ? [undefined, 1] : [spec.split(':')[0], Number(spec.split(':')[1] ?? 1)]
let passes = 0

export function failpoint(name: string): void {
  if (target !== name) return
  passes++
  if (passes >= nth) process.kill(process.pid, 'SIGKILL')
}
