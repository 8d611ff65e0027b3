/**
 * The part of the OpenLineage 2-0-2 JSON Schema that Sluice's events use: RunEvent, Run, Job, datasets and
 * the facets Sluice emits, with the fields the spec requires and the types it gives. Written from the spec's
 * documentation: neither the Java client's jar nor the Python client's wheel carries the spec's JSON files,
 * and openlineage.io is not always reachable from where tests run. Tests validate every event kind with it.
 */
const base = { type: 'object', properties: { _producer: { type: 'string', format: 'uri' }, _schemaURL: { type: 'string', format: 'uri' } }, required: ['_producer', '_schemaURL'] }
const withBase = (body: object) => ({ allOf: [{ $ref: '#/$defs/BaseFacet' }, body] })
const transformation = { type: 'object', properties: { type: { type: 'string' }, subtype: { type: 'string' }, description: { type: 'string' }, masking: { type: 'boolean' } }, required: ['type'] }
const inputField = { type: 'object', properties: { namespace: { type: 'string' }, name: { type: 'string' }, field: { type: 'string' }, transformations: { type: 'array', items: transformation } }, required: ['namespace', 'name', 'field'] }

export const OPENLINEAGE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://openlineage.io/spec/2-0-2/OpenLineage.json',
  $defs: {
    BaseEvent: {
      type: 'object',
      properties: { eventTime: { type: 'string', format: 'date-time' }, producer: { type: 'string', format: 'uri' }, schemaURL: { type: 'string', format: 'uri' } },
      required: ['eventTime', 'producer', 'schemaURL'],
    },
    RunEvent: {
      allOf: [
        { $ref: '#/$defs/BaseEvent' },
        {
          type: 'object',
          properties: {
            eventType: { type: 'string', enum: ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] },
            run: { $ref: '#/$defs/Run' },
            job: { $ref: '#/$defs/Job' },
            inputs: { type: 'array', items: { $ref: '#/$defs/InputDataset' } },
            outputs: { type: 'array', items: { $ref: '#/$defs/OutputDataset' } },
          },
          required: ['run', 'job'],
        },
      ],
    },
    Run: {
      type: 'object',
      properties: {
        runId: { type: 'string', format: 'uuid' },
        facets: {
          type: 'object',
          properties: {
            nominalTime: withBase({ type: 'object', properties: { nominalStartTime: { type: 'string', format: 'date-time' }, nominalEndTime: { type: 'string', format: 'date-time' } }, required: ['nominalStartTime'] }),
            parent: withBase({
              type: 'object',
              properties: {
                run: { type: 'object', properties: { runId: { type: 'string', format: 'uuid' } }, required: ['runId'] },
                job: { type: 'object', properties: { namespace: { type: 'string' }, name: { type: 'string' } }, required: ['namespace', 'name'] },
                root: {
                  type: 'object',
                  properties: {
                    run: { type: 'object', properties: { runId: { type: 'string', format: 'uuid' } }, required: ['runId'] },
                    job: { type: 'object', properties: { namespace: { type: 'string' }, name: { type: 'string' } }, required: ['namespace', 'name'] },
                  },
                  required: ['run', 'job'],
                },
              },
              required: ['run', 'job'],
            }),
            errorMessage: withBase({ type: 'object', properties: { message: { type: 'string' }, programmingLanguage: { type: 'string' }, stackTrace: { type: 'string' } }, required: ['message', 'programmingLanguage'] }),
            processing_engine: withBase({ type: 'object', properties: { version: { type: 'string' }, name: { type: 'string' }, openlineageAdapterVersion: { type: 'string' } }, required: ['version'] }),
          },
          additionalProperties: { $ref: '#/$defs/RunFacet' },
        },
      },
      required: ['runId'],
    },
    RunFacet: { allOf: [{ $ref: '#/$defs/BaseFacet' }] },
    Job: {
      type: 'object',
      properties: {
        namespace: { type: 'string' },
        name: { type: 'string' },
        facets: {
          type: 'object',
          properties: {
            jobType: withBase({ type: 'object', properties: { processingType: { type: 'string' }, integration: { type: 'string' }, jobType: { type: 'string' } }, required: ['processingType', 'integration'] }),
            sourceCodeLocation: withBase({ type: 'object', properties: { type: { type: 'string' }, url: { type: 'string', format: 'uri' } }, required: ['type', 'url'] }),
            ownership: withBase({ type: 'object', properties: { owners: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } }, required: ['name'] } } } }),
          },
          additionalProperties: { $ref: '#/$defs/JobFacet' },
        },
      },
      required: ['namespace', 'name'],
    },
    JobFacet: { allOf: [{ $ref: '#/$defs/BaseFacet' }, { type: 'object', properties: { _deleted: { type: 'boolean' } } }] },
    Dataset: {
      type: 'object',
      properties: {
        namespace: { type: 'string' },
        name: { type: 'string' },
        facets: {
          type: 'object',
          properties: {
            schema: withBase({
              type: 'object',
              properties: { fields: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' }, description: { type: 'string' } }, required: ['name'] } } },
            }),
            dataSource: withBase({ type: 'object', properties: { name: { type: 'string' }, uri: { type: 'string', format: 'uri' } } }),
            columnLineage: withBase({
              type: 'object',
              properties: {
                fields: { type: 'object', additionalProperties: { type: 'object', properties: { inputFields: { type: 'array', items: inputField }, transformationDescription: { type: 'string' }, transformationType: { type: 'string' } }, required: ['inputFields'] } },
                dataset: { type: 'array', items: inputField },
              },
              required: ['fields'],
            }),
            ownership: withBase({ type: 'object', properties: { owners: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } }, required: ['name'] } } } }),
            documentation: withBase({ type: 'object', properties: { description: { type: 'string' } }, required: ['description'] }),
          },
          additionalProperties: { $ref: '#/$defs/DatasetFacet' },
        },
      },
      required: ['namespace', 'name'],
    },
    DatasetFacet: { allOf: [{ $ref: '#/$defs/BaseFacet' }, { type: 'object', properties: { _deleted: { type: 'boolean' } } }] },
    InputDataset: {
      allOf: [
        { $ref: '#/$defs/Dataset' },
        {
          type: 'object',
          properties: {
            inputFacets: {
              type: 'object',
              properties: {
                dataQualityMetrics: withBase({ type: 'object', properties: { rowCount: { type: 'integer' }, bytes: { type: 'integer' }, columnMetrics: { type: 'object' } }, required: ['columnMetrics'] }),
                dataQualityAssertions: withBase({
                  type: 'object',
                  properties: { assertions: { type: 'array', items: { type: 'object', properties: { assertion: { type: 'string' }, success: { type: 'boolean' }, column: { type: 'string' } }, required: ['assertion', 'success'] } } },
                  required: ['assertions'],
                }),
              },
              additionalProperties: { $ref: '#/$defs/BaseFacet' },
            },
          },
        },
      ],
    },
    OutputDataset: {
      allOf: [
        { $ref: '#/$defs/Dataset' },
        {
          type: 'object',
          properties: {
            outputFacets: {
              type: 'object',
              properties: { outputStatistics: withBase({ type: 'object', properties: { rowCount: { type: 'integer' }, size: { type: 'integer' }, fileCount: { type: 'integer' } }, required: ['rowCount'] }) },
              additionalProperties: { $ref: '#/$defs/BaseFacet' },
            },
          },
        },
      ],
    },
    BaseFacet: base,
  },
  $ref: '#/$defs/RunEvent',
} as const
