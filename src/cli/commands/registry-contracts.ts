import type { Pipeline } from '../../api/pipeline.ts'
import { checkContracts, type ContractCheck } from '../../contracts/registry/contract-check.ts'
import { pipelineContracts } from '../../runtime/register-contracts.ts'

export { formatContractChecks, type ContractCheck } from '../../contracts/registry/contract-check.ts'

/** `sluice check --contracts`: compares the contract of every source and sink of the pipeline with the registry. */
export function checkPipelineContracts(p: Pipeline, registry: string, register: boolean): Promise<ContractCheck[]> {
  return checkContracts(pipelineContracts(p), registry, register)
}
