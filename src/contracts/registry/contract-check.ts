import type { ContractRef } from '../../core/contract-ref.ts'
import { registryAccess } from './access.ts'

/** One step's contract as checked against the registry. */
export interface ContractCheck {
  step: string
  contract: string
  subject: string
  status: 'registered' | 'compatible' | 'incompatible'
  version?: number
  id?: number
  level?: string
  differences: string[]
}

/**
 * Compares the contracts of a pipeline's steps with a schema registry (a folder or a Confluent-compatible URL):
 * a schema registered already is fine; one the subject's compatibility level accepts is `compatible` (and
 * registered with `register`); one it refuses is `incompatible`, with the breaking differences. Steps that
 * share a contract are checked once per subject.
 * @example const checks = await checkContracts([{ step: 'read', contract: bids }], 'data/registry', true)
 */
export async function checkContracts(steps: readonly { step: string; contract: ContractRef }[], registry: string, register: boolean): Promise<ContractCheck[]> {
  const access = await registryAccess(registry)
  const out: ContractCheck[] = []
  for (const { step, contract: c } of steps) {
    if (c.schemaText === undefined) continue
    const base = { step, contract: c.name, subject: c.subject }
    const found = await access.lookup(c.subject, c.schemaText)
    if (found !== undefined) {
      out.push({ ...base, status: 'registered', version: found.version, id: found.id, differences: [] })
      continue
    }
    const level = await access.level(c.subject)
    const differences = await access.differences(c.subject, c.schemaText)
    if (differences.length > 0) {
      out.push({ ...base, status: 'incompatible', level, differences })
      continue
    }
    const check: ContractCheck = { ...base, status: 'compatible', level, differences: [] }
    if (register) {
      const r = await access.register(c.subject, c.schemaText)
      const v = await access.lookup(c.subject, c.schemaText)
      Object.assign(check, { status: 'registered', id: r.id, version: v?.version })
    }
    out.push(check)
  }
  return out
}

/** One line per contract (and one per breaking difference) for the terminal. */
export function formatContractChecks(checks: readonly ContractCheck[]): string {
  if (checks.length === 0) return 'no step of this pipeline declares a contract\n'
  const lines: string[] = []
  for (const c of checks) {
    const head = `${c.step}: contract '${c.contract}' (subject ${c.subject})`
    if (c.status === 'registered') lines.push(`${head}: registered as version ${c.version} (schema id ${c.id})`)
    else if (c.status === 'compatible') lines.push(`${head}: a new version, compatible under ${c.level} (register it with --register, or a run of the producer)`)
    else {
      lines.push(`${head}: INCOMPATIBLE under ${c.level}:`)
      for (const d of c.differences) lines.push(`  - ${d}`)
    }
  }
  return lines.join('\n') + '\n'
}
