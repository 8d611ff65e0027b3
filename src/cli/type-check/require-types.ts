import { userError } from '../../core/errors.ts'
import type { CliContext } from '../command.ts'
import { checkPipelineTypes, type CheckResult } from './check.ts'

/**
 * Type-checks the pipeline at `abs` (given as `file`) and prints each error as `file:line:col - error`
 * on stderr; throws a user error (exit code 3) if there was any.
 */
export async function requireTypes(abs: string, file: string, ctx: CliContext): Promise<CheckResult> {
  const r = await checkPipelineTypes(abs, ctx.cwd, ctx.env)
  if (r.errors.length === 0) return r
  for (const e of r.errors) ctx.stderr.write(e + '\n')
  const n = r.errors.length
  throw userError('SLUICE_TYPE_CHECK_FAILED', `'${file}' does not type-check: ${n} error${n === 1 ? '' : 's'}`, {
    hint: `fix ${n === 1 ? 'it' : 'them'} (checked with ${r.tsconfig ?? 'default strict options, as no tsconfig.json was found'}); 'sluice run --no-check' runs without checking`,
  })
}
