/**
 * A JSON Schema for the OpenLineage events Sluice emits: the core of spec 2-0-2 (RunEvent, Run, Job, input and
 * output datasets, the facet bases) and, bound to its key, every facet Sluice emits, at the facet version
 * `FACET_VERSIONS` names:
 *
 * | key | facet | version |
 * |---|---|---|
 * | job `jobType`, `sourceCodeLocation`, `ownership` | JobTypeJobFacet, SourceCodeLocationJobFacet, OwnershipJobFacet | 2-0-3, 1-0-1, 1-0-1 |
 * | run `processing_engine`, `nominalTime`, `parent`, `errorMessage` | ProcessingEngineRunFacet, NominalTimeRunFacet, ParentRunFacet, ErrorMessageRunFacet | 1-1-1, 1-0-1, 1-1-0, 1-0-1 |
 * | dataset `schema`, `dataSource`, `columnLineage`, `ownership`, `documentation`, `tags` | SchemaDatasetFacet, DatasourceDatasetFacet, ColumnLineageDatasetFacet, OwnershipDatasetFacet, DocumentationDatasetFacet, TagsDatasetFacet | 1-2-0, 1-0-1, 1-2-0, 1-0-1, 1-1-0, 1-0-0 |
 * | input `dataQualityMetrics`, `dataQualityAssertions` | DataQualityMetricsInputDatasetFacet, DataQualityAssertionsDatasetFacet | 1-0-3, 1-0-1 |
 * | output `outputStatistics` | OutputStatisticsOutputDatasetFacet | 1-0-2 |
 *
 * Each facet is checked for its fields, their types (formats uri, date-time, uuid) and its required fields, as
 * those versions publish them, and its `_schemaURL` must name its own facet file. The spec closes none of these
 * objects (extra fields are allowed) and gives the values of `processingType` or a transformation's `type` in
 * prose only, so the default schema does not either. `{ strict: true }` is Sluice's own promise on top: every
 * facet carries only the documented fields, those values are among the documented ones, and `_schemaURL` names
 * exactly the version in `FACET_VERSIONS`. Facets Sluice does not emit are checked as their base facet.
 *
 * The facts (field names, types, required lists, versions) were taken from the spec's published facet files and
 * the official clients generated from them, not copied: the spec's JSON files ship in no npm package, jar or
 * wheel. On a machine that reaches openlineage.io, the official files (spec/2-0-2/OpenLineage.json and the facet
 * files above) should replace this schema in the tests: they are the stronger check.
 * @example
 * const validate = new Ajv2020({ strict: false }).compile(openLineageSchema({ strict: true }))
 * validate(event) // false when a facet misses a required field or names another facet's schema
 */
import { facetSchemaUrl, type SpecFacet } from './openlineage.ts'

type Schema = Record<string, unknown>

const str = { type: 'string' }
const uri = { type: 'string', format: 'uri' }
const dateTime = { type: 'string', format: 'date-time' }
const uuid = { type: 'string', format: 'uuid' }
const int = { type: 'integer' }
const num = { type: 'number' }
const bool = { type: 'boolean' }

/** Any published version of a facet's file, with or without the pointer to its definition. */
function schemaUrlPattern(name: SpecFacet): string {
  return `^https://openlineage\\.io/spec/facets/\\d+-\\d+-\\d+/${name}\\.json(#/\\$defs/${name})?$`
}

/**
 * The schema; `strict` adds Sluice's own promises (documented fields only, documented values, exact versions).
 * @example ajv.compile(openLineageSchema({ strict: true }))
 */
export function openLineageSchema(options: { strict?: boolean } = {}): Schema {
  const strict = options.strict === true
  const obj = (properties: Schema, required: readonly string[] = []): Schema => ({ type: 'object', properties, ...(required.length > 0 ? { required } : {}), ...(strict ? { additionalProperties: false } : {}) })
  const arrayOf = (items: Schema): Schema => ({ type: 'array', items })
  const mapOf = (values: Schema): Schema => ({ type: 'object', additionalProperties: values })
  /** A string whose values the spec lists in its description: an enum only when strict. */
  const documented = (values: readonly string[]): Schema => (strict ? { type: 'string', enum: values } : str)
  /** A facet: its base (RunFacet, JobFacet, DatasetFacet...), its fields, its required ones, a `_schemaURL` naming its file. */
  const facet = (name: SpecFacet, base: string, properties: Schema, required: readonly string[] = []): Schema => ({
    allOf: [
      { $ref: `#/$defs/${base}` },
      { type: 'object', properties: { ...properties, _schemaURL: strict ? { const: facetSchemaUrl(name) } : { type: 'string', pattern: schemaUrlPattern(name) } }, ...(required.length > 0 ? { required } : {}) },
    ],
    ...(strict ? { unevaluatedProperties: false } : {}),
  })
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` })
  const owners = arrayOf(obj({ name: str, type: str }, ['name']))
  const jobRef = obj({ namespace: str, name: str }, ['namespace', 'name'])
  const runRef = obj({ runId: uuid }, ['runId'])

  const facets: Record<SpecFacet, Schema> = {
    JobTypeJobFacet: facet('JobTypeJobFacet', 'JobFacet', { processingType: documented(['BATCH', 'STREAMING', 'SERVICE']), integration: str, jobType: str }, ['processingType', 'integration']),
    SourceCodeLocationJobFacet: facet('SourceCodeLocationJobFacet', 'JobFacet', { type: str, url: uri, repoUrl: str, path: str, version: str, tag: str, branch: str }, ['type', 'url']),
    OwnershipJobFacet: facet('OwnershipJobFacet', 'JobFacet', { owners }),
    ProcessingEngineRunFacet: facet('ProcessingEngineRunFacet', 'RunFacet', { version: str, name: str, openlineageAdapterVersion: str }, ['version']),
    NominalTimeRunFacet: facet('NominalTimeRunFacet', 'RunFacet', { nominalStartTime: dateTime, nominalEndTime: dateTime }, ['nominalStartTime']),
    ParentRunFacet: facet('ParentRunFacet', 'RunFacet', { run: runRef, job: jobRef, root: obj({ run: runRef, job: jobRef }, ['run', 'job']) }, ['run', 'job']),
    ErrorMessageRunFacet: facet('ErrorMessageRunFacet', 'RunFacet', { message: str, programmingLanguage: str, stackTrace: str }, ['message', 'programmingLanguage']),
    SchemaDatasetFacet: facet('SchemaDatasetFacet', 'DatasetFacet', { fields: arrayOf(ref('SchemaDatasetFacetFields')) }),
    DatasourceDatasetFacet: facet('DatasourceDatasetFacet', 'DatasetFacet', { name: str, uri }),
    ColumnLineageDatasetFacet: facet('ColumnLineageDatasetFacet', 'DatasetFacet', {
      fields: mapOf(obj({ inputFields: arrayOf(ref('InputField')), transformationDescription: str, transformationType: str }, ['inputFields'])),
      dataset: arrayOf(ref('InputField')),
    }, ['fields']),
    OwnershipDatasetFacet: facet('OwnershipDatasetFacet', 'DatasetFacet', { owners }),
    DocumentationDatasetFacet: facet('DocumentationDatasetFacet', 'DatasetFacet', { description: str, contentType: str }, ['description']),
    TagsDatasetFacet: facet('TagsDatasetFacet', 'DatasetFacet', { tags: arrayOf(obj({ key: str, value: str, source: str, field: str }, ['key', 'value'])) }),
    DataQualityMetricsInputDatasetFacet: facet('DataQualityMetricsInputDatasetFacet', 'InputDatasetFacet', {
      rowCount: int,
      bytes: int,
      fileCount: int,
      lastUpdated: dateTime,
      columnMetrics: mapOf(obj({ nullCount: int, distinctCount: int, sum: num, count: num, min: num, max: num, quantiles: mapOf(num) })),
    }, ['columnMetrics']),
    DataQualityAssertionsDatasetFacet: facet('DataQualityAssertionsDatasetFacet', 'InputDatasetFacet', { assertions: arrayOf(obj({ assertion: str, success: bool, column: str }, ['assertion', 'success'])) }, ['assertions']),
    OutputStatisticsOutputDatasetFacet: facet('OutputStatisticsOutputDatasetFacet', 'OutputDatasetFacet', { rowCount: int, size: int, fileCount: int }),
  }
  /** A facets object: the facets bound to their keys, any other key checked as the base facet. */
  const facetMap = (bound: Record<string, SpecFacet>, base: string): Schema => ({
    type: 'object',
    properties: Object.fromEntries(Object.entries(bound).map(([key, name]) => [key, ref(name)])),
    additionalProperties: ref(base),
  })

  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $defs: {
      BaseEvent: { type: 'object', properties: { eventTime: dateTime, producer: uri, schemaURL: uri }, required: ['eventTime', 'producer', 'schemaURL'] },
      RunEvent: {
        allOf: [
          ref('BaseEvent'),
          {
            type: 'object',
            properties: {
              eventType: { type: 'string', enum: ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] },
              run: ref('Run'),
              job: ref('Job'),
              inputs: arrayOf(ref('InputDataset')),
              outputs: arrayOf(ref('OutputDataset')),
            },
            required: ['run', 'job'],
          },
        ],
      },
      Run: {
        type: 'object',
        properties: { runId: uuid, facets: facetMap({ processing_engine: 'ProcessingEngineRunFacet', nominalTime: 'NominalTimeRunFacet', parent: 'ParentRunFacet', errorMessage: 'ErrorMessageRunFacet' }, 'RunFacet') },
        required: ['runId'],
      },
      Job: {
        type: 'object',
        properties: { namespace: str, name: str, facets: facetMap({ jobType: 'JobTypeJobFacet', sourceCodeLocation: 'SourceCodeLocationJobFacet', ownership: 'OwnershipJobFacet' }, 'JobFacet') },
        required: ['namespace', 'name'],
      },
      Dataset: {
        type: 'object',
        properties: {
          namespace: str,
          name: str,
          facets: facetMap({ schema: 'SchemaDatasetFacet', dataSource: 'DatasourceDatasetFacet', columnLineage: 'ColumnLineageDatasetFacet', ownership: 'OwnershipDatasetFacet', documentation: 'DocumentationDatasetFacet', tags: 'TagsDatasetFacet' }, 'DatasetFacet'),
        },
        required: ['namespace', 'name'],
      },
      InputDataset: { allOf: [ref('Dataset'), { type: 'object', properties: { inputFacets: facetMap({ dataQualityMetrics: 'DataQualityMetricsInputDatasetFacet', dataQualityAssertions: 'DataQualityAssertionsDatasetFacet' }, 'InputDatasetFacet') } }] },
      OutputDataset: { allOf: [ref('Dataset'), { type: 'object', properties: { outputFacets: facetMap({ outputStatistics: 'OutputStatisticsOutputDatasetFacet' }, 'OutputDatasetFacet') } }] },
      BaseFacet: { type: 'object', properties: { _producer: uri, _schemaURL: uri }, required: ['_producer', '_schemaURL'] },
      RunFacet: { allOf: [ref('BaseFacet')] },
      JobFacet: { allOf: [ref('BaseFacet'), { type: 'object', properties: { _deleted: bool } }] },
      DatasetFacet: { allOf: [ref('BaseFacet'), { type: 'object', properties: { _deleted: bool } }] },
      InputDatasetFacet: { allOf: [ref('BaseFacet')] },
      OutputDatasetFacet: { allOf: [ref('BaseFacet')] },
      SchemaDatasetFacetFields: obj({ name: str, type: str, description: str, ordinal_position: int, fields: arrayOf(ref('SchemaDatasetFacetFields')) }, ['name']),
      InputField: obj({ namespace: str, name: str, field: str, transformations: arrayOf(ref('Transformation')) }, ['namespace', 'name', 'field']),
      Transformation: obj({
        type: documented(['DIRECT', 'INDIRECT']),
        subtype: documented(['IDENTITY', 'TRANSFORMATION', 'AGGREGATION', 'JOIN', 'GROUP_BY', 'FILTER', 'SORT', 'WINDOW', 'CONDITIONAL']),
        description: str,
        masking: bool,
      }, ['type']),
      ...facets,
    },
    $ref: '#/$defs/RunEvent',
  }
}

/** The schema as the spec reads: required fields and types of the core and of every facet Sluice emits. */
export const OPENLINEAGE_SCHEMA = openLineageSchema()

