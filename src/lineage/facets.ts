import type { StepNode } from '../plan/graph.ts'
import type { SchemaText } from '../contracts/compat/check.ts'
import { contractFields } from '../contracts/contract/fields.ts'
import type { QualityResult } from '../contracts/quality/window-checks.ts'
import type { Columns } from './column-lineage.ts'
import { facet, type BaseFacet, type DatasetRef } from './openlineage.ts'

/** The contract a source step checks, as lineage reads it. */
export interface ContractView {
  name: string
  subject: string
  version: number
  owner?: string
  description?: string
  personal?: readonly string[]
  schemaText?: SchemaText
}

export function contractOf(node: StepNode): ContractView | undefined {
  if (node.impl.role !== 'source' && node.impl.role !== 'sink') return undefined
  const c = (node.impl.role === 'source' ? node.impl.source : node.impl.sink) as { contract?: ContractView }
  return c.contract
}

/** The data source facet: the namespace and, for URL namespaces, the dataset's URI. */
export function dataSourceFacet(d: DatasetRef): BaseFacet {
  return facet('DatasourceDatasetFacet', { name: d.namespace, uri: d.namespace.includes('://') ? `${d.namespace}/${d.name.replace(/^\//, '')}` : `${d.namespace}:${d.name}` })
}

/** The schema facet from a contract's fields, or the field names lineage knows. */
export function schemaFacet(contract: ContractView | undefined, columns: Columns | undefined): BaseFacet | undefined {
  if (contract?.schemaText !== undefined) {
    const fields = contractFields(contract.schemaText).map((f) => ({ name: f.name, type: f.type, ...(f.description !== undefined ? { description: f.description } : {}) }))
    return facet('SchemaDatasetFacet', { fields })
  }
  if (columns === undefined || columns.fields.size === 0) return undefined
  return facet('SchemaDatasetFacet', { fields: [...columns.fields.keys()].filter((k) => k !== '').map((name) => ({ name })) })
}

/**
 * A contract's owner and description as dataset facets, and its personal fields (as the contract names them,
 * nested ones dotted) as tags `classification=personal` of the spec's tags facet.
 */
export function contractFacets(contract: ContractView | undefined): Record<string, BaseFacet> {
  if (contract === undefined) return {}
  const personal = contract.personal ?? []
  return {
    ...(contract.owner !== undefined ? { ownership: facet('OwnershipDatasetFacet', { owners: [{ name: contract.owner, type: 'team' }] }) } : {}),
    ...(contract.description !== undefined ? { documentation: facet('DocumentationDatasetFacet', { description: contract.description }) } : {}),
    ...(personal.length > 0 ? { tags: facet('TagsDatasetFacet', { tags: personal.map((field) => ({ key: 'classification', value: 'personal', source: 'CONTRACT', field })) }) } : {}),
  }
}

/** The column lineage facet of an output: its fields' input fields, and the indirect ones (filters, keys). */
export function columnLineageFacet(columns: Columns): BaseFacet | undefined {
  const dep = (d: Columns['indirect'][number]) => ({ namespace: d.namespace, name: d.name, field: d.field, transformations: [{ type: d.transformation.type, subtype: d.transformation.subtype, ...(d.transformation.description !== undefined ? { description: d.transformation.description } : {}), masking: d.transformation.masking }] })
  const fields: Record<string, { inputFields: ReturnType<typeof dep>[] }> = {}
  for (const [name, deps] of columns.fields) if (name !== '') fields[name] = { inputFields: deps.map(dep) }
  if (Object.keys(fields).length === 0 && columns.indirect.length === 0) return undefined
  return facet('ColumnLineageDatasetFacet', { fields, ...(columns.indirect.length > 0 ? { dataset: columns.indirect.map(dep) } : {}) })
}

/**
 * The data-quality assertions on an input: its contract's rules at the edge (a rule passes when no record
 * broke it) and the `expect` steps downstream of it (an expectation passes when every window passed).
 */
export function qualityAssertions(source: StepNode, violations: Readonly<Record<string, number>>, expectSteps: readonly string[], results: readonly QualityResult[]): BaseFacet | undefined {
  const assertions: { assertion: string; success: boolean; column?: string }[] = []
  const contract = contractOf(source)
  if (contract !== undefined) {
    const counts = new Map(Object.entries(violations))
    const rules = (source.impl.role === 'source' ? ((source.impl.source as { contract?: { rules?: readonly { field: string; rule: string }[] } }).contract?.rules ?? []) : [])
    const seen = new Set<string>()
    for (const r of rules) {
      const id = `/${r.field.replaceAll('.', '/')} ${r.rule}`
      seen.add(id)
      assertions.push({ assertion: `contract ${r.rule}`, success: (counts.get(id) ?? 0) === 0, column: r.field })
    }
    assertions.push({ assertion: `contract ${contract.name} schema`, success: [...counts.entries()].every(([id, n]) => seen.has(id) || n === 0) })
  }
  const byName = new Map<string, { passed: boolean; field: string | null }>()
  for (const r of results) {
    if (!expectSteps.includes(r.step)) continue
    const k = `${r.step}\u0000${r.expectation}`
    const prev = byName.get(k)
    byName.set(k, { passed: (prev?.passed ?? true) && r.passed, field: r.field })
  }
  for (const [k, v] of byName) assertions.push({ assertion: k.split('\u0000')[1], success: v.passed, ...(v.field !== null ? { column: v.field } : {}) })
  if (assertions.length === 0) return undefined
  return facet('DataQualityAssertionsDatasetFacet', { assertions })
}

/** Row counts of an input as a data-quality metrics facet. */
export function qualityMetrics(rowCount: number): BaseFacet {
  return facet('DataQualityMetricsInputDatasetFacet', { rowCount, columnMetrics: {} })
}
