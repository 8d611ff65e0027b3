import type { Pipeline } from '../api/pipeline.ts'
import type { ContractRef } from '../core/contract-ref.ts'
import { SluiceError, errorMessage, userError } from '../core/errors.ts'
import { checkContracts, type ContractCheck } from '../contracts/registry/contract-check.ts'

/**
 * The contracts of a pipeline's sources and sinks (those attached with `withContract`), in plan order.
 * @example pipelineContracts(p) // [{ step: 'source-jsonl-1', contract: bids }, { step: 'sink-parquet-3', contract: bids }]
 */
export function pipelineContracts(p: Pipeline): { step: string; contract: ContractRef }[] {
  const out: { step: string; contract: ContractRef }[] = []
  for (const node of p.nodes) {
    const c = node.impl.role === 'source' ? node.impl.source.contract : node.impl.role === 'sink' ? node.impl.sink.contract : undefined
    if (c !== undefined) out.push({ step: node.id, contract: c })
  }
  return out
}

/** The registry a run registers its contracts in: the run's option, the pipeline's, then `SLUICE_REGISTRY`. */
export function registryOf(p: Pipeline, given: string | undefined): string | undefined {
  const env = process.env.SLUICE_REGISTRY
  return given ?? p.options.registry ?? (env !== undefined && env !== '' ? env : undefined)
}

/**
 * Before a run: registers each contract's schema as a new version of its subject when the subject's
 * compatibility level accepts it (a schema registered already keeps its version), and refuses to start with
 * `SLUICE_CONTRACT_INCOMPATIBLE`, listing the breaking differences, when it does not. Nothing is registered
 * then, for no step: a run that cannot start leaves the registry as it was.
 */
export async function registerContracts(p: Pipeline, registry: string): Promise<ContractCheck[]> {
  const steps = pipelineContracts(p)
  if (steps.length === 0) return []
  const ask = async (register: boolean): Promise<ContractCheck[]> => {
    try {
      return await checkContracts(steps, registry, register)
    } catch (e) {
      if (e instanceof SluiceError) throw e
      throw new SluiceError('SLUICE_REGISTRY_UNAVAILABLE', `pipeline '${p.name}': the schema registry '${registry}' could not be asked about its contracts: ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        cause: e,
        hint: 'start the registry (sluice registry --dir <folder>), or run without a registry',
      })
    }
  }
  const checks = await ask(false)
  const bad = checks.filter((c) => c.status === 'incompatible')
  if (bad.length > 0) {
    const lines = bad.flatMap((c) => [`contract '${c.contract}' of step '${c.step}' (subject ${c.subject}) is incompatible under ${c.level}:`, ...c.differences.map((d) => `  - ${d}`)])
    throw userError('SLUICE_CONTRACT_INCOMPATIBLE', `pipeline '${p.name}' was not started:\n${lines.join('\n')}`, {
      hint: 'make the change compatible (an optional field with a default), register it under a new subject, or change the subject\'s compatibility level',
    })
  }
  return checks.some((c) => c.status === 'compatible') ? ask(true) : checks
}
