import { SluiceError } from '../core/errors.ts'
import type { CliContext } from './command.ts'
import { UsageError } from './command.ts'
import { exitCode } from './exit-codes.ts'

/**
 * Prints an error the way a user wants to read it and returns the exit code: usage errors point at
 * --help, SluiceErrors print their code, step, position and hint. Stack traces only with SLUICE_DEBUG=1.
 */
export function reportError(e: unknown, ctx: CliContext): number {
  const debug = ctx.env.SLUICE_DEBUG === '1'
  if (e instanceof UsageError) {
    const help = e.command !== undefined ? `sluice ${e.command} --help` : 'sluice --help'
    ctx.stderr.write(`sluice: ${e.message}\nsee '${help}'\n`)
    return exitCode.usage
  }
  // Output piped into `head` that closed: what was wanted was read, as with any Unix tool.
  if (e instanceof SluiceError && e.code === 'SLUICE_OUTPUT_CLOSED') return exitCode.ok
  if (e instanceof SluiceError) {
    ctx.stderr.write(`error ${e.describe()}\n`)
    if (debug) ctx.stderr.write(stacks(e))
    return e.domain === 'user' ? exitCode.userError : exitCode.failure
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  ctx.stderr.write(`error: ${msg}\n`)
  if (debug) ctx.stderr.write(stacks(e))
  else ctx.stderr.write('  (set SLUICE_DEBUG=1 to see the stack trace)\n')
  return exitCode.failure
}

function stacks(e: unknown): string {
  let s = ''
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 5; depth++) {
    s += `${depth > 0 ? 'caused by: ' : ''}${cur instanceof Error ? (cur.stack ?? cur.message) : String(cur)}\n`
    cur = cur instanceof Error ? cur.cause : undefined
  }
  return s
}
