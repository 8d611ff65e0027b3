/** What Sluice says it is in every event and facet (`producer`, `_producer`). */
export const PRODUCER = 'https://github.com/sluice-dev/sluice/tree/v0.1.0'

/** The OpenLineage spec version the events follow. */
export const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json'

/**
 * The version of each spec facet Sluice emits, as openlineage.io publishes it (`spec/facets/<version>/<Facet>.json`).
 * One table, so an event never names a facet file that does not exist; spec-schema.ts checks the bodies.
 */
export const FACET_VERSIONS = {
  JobTypeJobFacet: '2-0-3',
  SourceCodeLocationJobFacet: '1-0-1',
  OwnershipJobFacet: '1-0-1',
  ProcessingEngineRunFacet: '1-1-1',
  NominalTimeRunFacet: '1-0-1',
  ParentRunFacet: '1-1-0',
  ErrorMessageRunFacet: '1-0-1',
  SchemaDatasetFacet: '1-2-0',
  DatasourceDatasetFacet: '1-0-1',
  ColumnLineageDatasetFacet: '1-2-0',
  OwnershipDatasetFacet: '1-0-1',
  DocumentationDatasetFacet: '1-1-0',
  TagsDatasetFacet: '1-0-0',
  DataQualityMetricsInputDatasetFacet: '1-0-3',
  DataQualityAssertionsDatasetFacet: '1-0-1',
  OutputStatisticsOutputDatasetFacet: '1-0-2',
} as const

/** A facet of the spec that Sluice emits. */
export type SpecFacet = keyof typeof FACET_VERSIONS

/** The schema URL of a facet of the OpenLineage spec, at the version Sluice follows. */
export function facetSchemaUrl(facet: SpecFacet): string {
  return `https://openlineage.io/spec/facets/${FACET_VERSIONS[facet]}/${facet}.json#/$defs/${facet}`
}

/** Sluice's own facets (not in the spec) point here. */
export const SLUICE_FACETS = 'https://github.com/sluice-dev/sluice/blob/main/docs/lineage.md'

/** The facet base fields: who wrote it and the schema it follows. */
export interface BaseFacet {
  _producer: string
  _schemaURL: string
  [k: string]: unknown
}

/** A facet of the spec, stamped with the producer and its schema URL. */
export function facet<T extends Record<string, unknown>>(name: SpecFacet, body: T): BaseFacet & T {
  return { _producer: PRODUCER, _schemaURL: facetSchemaUrl(name), ...body }
}

/** The run states of the spec: START, RUNNING (streaming jobs, periodically), then COMPLETE, FAIL or ABORT. */
export type EventType = 'START' | 'RUNNING' | 'COMPLETE' | 'FAIL' | 'ABORT'

/** A dataset as OpenLineage names it: a namespace (the data source) and a name within it. */
export interface DatasetRef {
  namespace: string
  name: string
}

export interface Dataset extends DatasetRef {
  facets?: Record<string, BaseFacet>
  inputFacets?: Record<string, BaseFacet>
  outputFacets?: Record<string, BaseFacet>
}

/**
 * One OpenLineage RunEvent, as sent to Marquez or written to a file.
 * @example run(p, { lineage: { transport: { describe: 'stdout', send: async (e: RunEvent) => console.log(e.eventType, e.job.name) } } })
 */
export interface RunEvent {
  eventType: EventType
  eventTime: string
  run: { runId: string; facets?: Record<string, BaseFacet> }
  job: { namespace: string; name: string; facets?: Record<string, BaseFacet> }
  inputs: Dataset[]
  outputs: Dataset[]
  producer: string
  schemaURL: string
}

/**
 * The run that started this one (a workflow's task run), as the parent run facet names it; `root` is the
 * run at the top of the chain (the workflow run), when there is one above the parent.
 * @example
 * const parent: ParentRun = { runId: '0190d1c6-7a51-7c1e-9d8e-3b6f5a2e4c10', job: { namespace: 'scheduler', name: 'nightly' } }
 * await run(p, { lineage: { transport: 'lineage/events.ndjson', parent } })
 */
export interface ParentRun {
  runId: string
  job: { namespace: string; name: string }
  root?: { runId: string; job: { namespace: string; name: string } }
}
