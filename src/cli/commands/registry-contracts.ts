import type { Pipeline } from '../../api/pipeline.ts'
import type { SchemaText } from '../../contracts/compat/check.ts'
import { registryAccess } from '../../contracts/registry/access.ts'

/** One source's contract as checked against the registry. */
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
 * `sluice check --contracts`: compares the contract of every source of the pipeline with the registry. A schema
 * registered already is fine; one the subject's compatibility level accepts is reported (and registered with
 * `register`); one it refuses is `incompatible`, with the breaking differences.
 */
export async function checkContracts(p: Pipeline, registry: string, register: boolean): Promise<ContractCheck[]> {
  const access = await registryAccess(registry)
  const out: ContractCheck[] = []
  for (const node of p.nodes) {
    if (node.impl.role !== 'source') continue
    const c = node.impl.source.contract as { name: string; subject: string; schemaText?: SchemaText } | undefined
    if (c?.schemaText === undefined) continue
    const base = { step: node.id, contract: c.name, subject: c.subject }
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
export function formatContractChecks(checks: ContractCheck[]): string {
  if (checks.length === 0) return 'no source of this pipeline declares a contract\n'
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
