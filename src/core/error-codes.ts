/** Who is at fault: the user's pipeline or data, an external system, or Sluice itself. */
export type ErrorDomain = 'user' | 'external' | 'internal'

/**
 * Every error code of Sluice, once, with the domain it has unless a raise says otherwise, and what it means.
 * `SluiceError` takes only these codes, so a misspelt code does not compile; docs/errors.md is this table.
 * @example new SluiceError('SLUICE_BAD_OPTION', "source.jsonl: 'path' is required") // domain 'user' from here
 */
export const ERROR_CODES = {
  SLUICE_BAD_ARGUMENT: { domain: 'user', meaning: 'A function of the API or a command was called with an argument it cannot take.' },
  SLUICE_BAD_AVRO: { domain: 'user', meaning: 'A record is not Avro in the Confluent wire format (magic byte 0, schema id), or its schema id is unknown or cannot be read with the contract.' },
  SLUICE_BAD_CSV: { domain: 'user', meaning: 'A CSV line could not be parsed (an unbalanced quote, a wrong number of fields).' },
  SLUICE_BAD_DEFAULT_EXPORT: { domain: 'user', meaning: "A pipeline module's default export is not a pipeline or a function that builds one." },
  SLUICE_BAD_DURATION: { domain: 'user', meaning: "A duration ('5s', '1h', a number of ms) is not valid." },
  SLUICE_BAD_JSON: { domain: 'user', meaning: 'A JSONL line is not valid JSON.' },
  SLUICE_BAD_KEY: { domain: 'user', meaning: 'A key function returned what cannot be a key (undefined, NaN, a Symbol, a function, a Promise, a cyclic or non-plain object); that record goes to the error path.' },
  SLUICE_BAD_OPTION: { domain: 'user', meaning: 'An option of a source, sink, step or command is missing or invalid.' },
  SLUICE_BAD_PIPELINE_NAME: { domain: 'user', meaning: 'A pipeline name uses characters other than letters, digits, dot, dash and underscore.' },
  SLUICE_BAD_POSITION: { domain: 'user', meaning: "A source position (from a checkpoint or given to restore) does not fit the source's input." },
  SLUICE_BAD_RESULT: { domain: 'user', meaning: 'A user function returned undefined or a Promise where a value is expected (functions run synchronously); that record goes to the error path.' },
  SLUICE_BAD_STEP_ID: { domain: 'user', meaning: 'A step id given with .id(…) is not valid.' },
  SLUICE_BAD_UTF8: { domain: 'user', meaning: 'An input line is not valid UTF-8 (kept as bytes on the error path).' },
  SLUICE_BAD_CONTRACT: { domain: 'user', meaning: 'A data contract (its schema, rules or contract file) is not valid.' },
  SLUICE_CATALOG_STORE: { domain: 'external', meaning: 'The catalog store (datasets and jobs from lineage and contracts) could not be opened or written.' },
  SLUICE_CHECKPOINT_CORRUPT: { domain: 'external', meaning: 'A checkpoint is damaged: a manifest or state file is missing, truncated or fails its checksum.' },
  SLUICE_CHECKPOINT_FAILED: { domain: 'external', meaning: 'More checkpoints failed in a row than the job tolerates (tolerableFailures).' },
  SLUICE_CHECKPOINT_FALLBACK_REFUSED: { domain: 'external', meaning: 'The newest checkpoints are damaged and falling back (or starting from scratch) would write again output they committed to a log sink or the dead-letter log; restore from a savepoint or run with --accept-duplicates.' },
  SLUICE_CHECKPOINT_IO: { domain: 'external', meaning: 'A checkpoint file that is there could not be read (EIO, EACCES): the job does not start.' },
  SLUICE_CHECKPOINT_LOCKED: { domain: 'user', meaning: 'Another running job (the pid is named) holds the checkpoint folder.' },
  SLUICE_CHECKPOINT_MISMATCH: { domain: 'user', meaning: 'A checkpoint or savepoint does not fit the pipeline being restored (another pipeline, changed steps).' },
  SLUICE_CHECKPOINT_UNLISTABLE: { domain: 'external', meaning: 'The checkpoint folder exists but cannot be listed (EIO, EMFILE, EACCES): the job does not start.' },
  SLUICE_CHECKPOINT_UNREADABLE: { domain: 'user', meaning: 'A checkpoint was written in a format this version of Sluice does not read.' },
  SLUICE_CHECKPOINT_WRITE_FAILED: { domain: 'external', meaning: 'A checkpoint or savepoint could not be written (a full disk, permissions): that checkpoint failed.' },
  SLUICE_CONTRACT_INCOMPATIBLE: { domain: 'user', meaning: "A run's contract is incompatible with the versions its subject holds in the schema registry (the breaking differences are listed): the run does not start." },
  SLUICE_CONTRACT_VIOLATION: { domain: 'user', meaning: "A record breaks the data contract of its source or sink (the field path, rule, subject and version are named)." },
  SLUICE_CSV_BAD_HEADER: { domain: 'user', meaning: "A CSV file's header is not valid CSV or names a field twice." },
  SLUICE_DECRYPT_FAILED: { domain: 'user', meaning: 'A ciphertext could not be decrypted: it is damaged or changed, or not a Sluice ciphertext.' },
  SLUICE_DLQ_CORRUPT: { domain: 'external', meaning: 'The commit state of a dead-letter topic cannot be read.' },
  SLUICE_DLQ_NO_LOG: { domain: 'user', meaning: 'A dead-letter command names a folder that holds no log.' },
  SLUICE_DLQ_REDRIVE_FAILED: { domain: 'external', meaning: 'Dead letters could not be sent again to their target.' },
  SLUICE_DLQ_WRITE_FAILED: { domain: 'external', meaning: 'Dead letters could not be appended to the dead-letter log.' },
  SLUICE_DUPLICATE_STEP_ID: { domain: 'user', meaning: 'Two steps of a pipeline have the same id.' },
  SLUICE_EMPTY_PIPELINE: { domain: 'user', meaning: 'A pipeline has no source.' },
  SLUICE_EVENT_TIME_IN_FUTURE: { domain: 'user', meaning: "A record's event time lies further ahead of the clock than its source's maxFutureSkew (default 1 day); it goes to the error path instead of carrying the watermark ahead." },
  SLUICE_EXPECTATION_FAILED: { domain: 'user', meaning: "A quality expectation failed: a record (severity 'drop' or 'fail') or a window (severity 'fail')." },
  SLUICE_FILE_NOT_FOUND: { domain: 'user', meaning: 'An input file does not exist.' },
  SLUICE_FILE_READ_FAILED: { domain: 'external', meaning: 'An input file could not be opened or read.' },
  SLUICE_FILE_UNREADABLE: { domain: 'user', meaning: 'An input path is not a readable file (a folder, for instance).' },
  SLUICE_FORBIDDEN: { domain: 'user', meaning: 'A control-plane call was refused: the token\'s role may not do it (HTTP 403).' },
  SLUICE_INIT_NOT_EMPTY: { domain: 'user', meaning: 'sluice init was pointed at a folder that already holds files.' },
  SLUICE_INTERNAL: { domain: 'internal', meaning: 'A defect in Sluice: please report it with the message.' },
  SLUICE_JOB_BAD_STATUS: { domain: 'internal', meaning: 'The runtime tried a job status change that is not allowed (a bug).' },
  SLUICE_JOB_CANCELLED: { domain: 'user', meaning: 'The job was cancelled: it stopped without a last checkpoint.' },
  SLUICE_JOB_NOT_RUNNING: { domain: 'user', meaning: 'A command was sent to a job that has ended.' },
  SLUICE_KAFKA_RUNNER_TOPICS: { domain: 'external', meaning: "The internal topics of a Kafka-runner job (its exchange and its members' topic) could not be created." },
  SLUICE_KAFKA_TRANSACTION_LOST: { domain: 'external', meaning: 'A Kafka transaction of a completed checkpoint was aborted by the broker (it outlived its timeout) before the sink could commit it.' },
  SLUICE_KEYRING_CORRUPT: { domain: 'external', meaning: 'A keyring file is damaged: not valid JSON, another format, or a key that fails its authentication.' },
  SLUICE_KEY_MISSING: { domain: 'user', meaning: 'A key is not available: the master key is not set or does not open the keyring, or a key id or purpose is not in it.' },
  SLUICE_LOG_BAD_RECORD: { domain: 'user', meaning: 'A record cannot be appended to the log (too large, or not bytes).' },
  SLUICE_LOG_BAD_TOPIC: { domain: 'user', meaning: 'A log topic name is not valid.' },
  SLUICE_LOG_CLOSED: { domain: 'internal', meaning: 'The log, or a partition of it, was used after it was closed.' },
  SLUICE_LOG_CORRUPT: { domain: 'external', meaning: 'A log segment, index or offsets file is damaged.' },
  SLUICE_LOG_IO: { domain: 'external', meaning: 'Writing to the log failed; the partition takes no more appends until reopened.' },
  SLUICE_LOG_LOCKED: { domain: 'user', meaning: 'Another process (or this one) has the log folder open.' },
  SLUICE_LOG_NO_PARTITION: { domain: 'user', meaning: 'A log topic has no partition of that number.' },
  SLUICE_LOG_NO_TOPIC: { domain: 'user', meaning: 'A log topic does not exist.' },
  SLUICE_LOG_OFFSET_OUT_OF_RANGE: { domain: 'user', meaning: "An offset is outside a log partition's stored range." },
  SLUICE_LOG_TOPIC_EXISTS: { domain: 'user', meaning: 'A log topic to create exists already.' },
  SLUICE_LOOKUP_FAILED: { domain: 'external', meaning: 'A lookup step could not get an answer for a key (after its timeout and retries); its records go to the error path.' },
  SLUICE_METRICS_PORT_UNAVAILABLE: { domain: 'user', meaning: 'The metrics server cannot listen on the port given (in use, or not allowed).' },
  SLUICE_NOT_CLONEABLE: { domain: 'user', meaning: 'An item other than a record cannot be sent to another thread (it holds functions or other uncloneable values); records that cannot go to the error path instead.' },
  SLUICE_NOT_FOUND: { domain: 'user', meaning: 'A control-plane call names a route or a job that does not exist (HTTP 404).' },
  SLUICE_NOT_RETRACTABLE: { domain: 'user', meaning: 'A step cannot take back records, but its input is an updating stream.' },
  SLUICE_NO_CHECKPOINTS: { domain: 'user', meaning: 'A checkpoint or savepoint was asked of a run that takes no checkpoints.' },
  SLUICE_NO_CHECKPOINT_DIR: { domain: 'user', meaning: 'A command names a checkpoint folder that does not exist.' },
  SLUICE_NO_DEFAULT_EXPORT: { domain: 'user', meaning: 'A pipeline module has no default export.' },
  SLUICE_NO_EVENT_TIME: { domain: 'user', meaning: 'A step works in event time but a source feeding it has no eventTime.' },
  SLUICE_NO_FILES: { domain: 'user', meaning: 'No file matches the pattern of a file source.' },
  SLUICE_NO_SINK: { domain: 'user', meaning: 'A pipeline has no sink.' },
  SLUICE_NO_SLO: { domain: 'user', meaning: 'An SLO command was given a pipeline that declares no objectives (pipeline option slo).' },
  SLUICE_OUTPUT_CLOSED: { domain: 'user', meaning: "The reader of sink.console()'s standard output went away (piped into head): the run stops, and sluice run exits quietly with 0." },
  SLUICE_PARALLEL_NEEDS_MODULE: { domain: 'user', meaning: 'A parallel run needs the pipeline to be loaded from a module file.' },
  SLUICE_PARALLEL_PLAN_MISMATCH: { domain: 'user', meaning: 'A worker thread built a different pipeline from the module than the one being run.' },
  SLUICE_PIPELINE_BUILD_FAILED: { domain: 'user', meaning: "A pipeline module's builder function threw." },
  SLUICE_PIPELINE_LOAD_FAILED: { domain: 'user', meaning: 'A pipeline module could not be loaded (a syntax or import error).' },
  SLUICE_PIPELINE_NOT_A_MODULE: { domain: 'user', meaning: 'The file given as a pipeline is not a .ts or .js module.' },
  SLUICE_PIPELINE_NOT_FOUND: { domain: 'user', meaning: 'The pipeline file does not exist.' },
  SLUICE_PROMETHEUS_UNAVAILABLE: { domain: 'external', meaning: 'The Prometheus server asked for live SLO figures did not answer, or refused the query.' },
  SLUICE_RECORD_TOO_LARGE: { domain: 'user', meaning: 'An input line is longer than the maximum record size.' },
  SLUICE_RECORD_UNWRITABLE: { domain: 'user', meaning: 'A sink cannot encode a record (a BigInt in JSON, a value nested too deeply), or a record cannot be sent to another thread (it holds a function); that record goes to the error path.' },
  SLUICE_REGISTRY_UNAVAILABLE: { domain: 'external', meaning: 'The schema registry a run registers its contracts in could not be reached or read.' },
  SLUICE_SAVEPOINT_EXISTS: { domain: 'user', meaning: 'The savepoint folder exists already; each savepoint needs a new folder.' },
  SLUICE_SAVEPOINT_FAILED: { domain: 'external', meaning: 'A savepoint could not be taken or written.' },
  SLUICE_SAVEPOINT_TIMEOUT: { domain: 'external', meaning: 'A running job did not answer a savepoint request in time.' },
  SLUICE_SCHEMA_MISMATCH: { domain: 'user', meaning: "Records do not fit a sink's or table's schema." },
  SLUICE_SERVER_TOKENS: { domain: 'user', meaning: 'The control plane\'s token file cannot be read.' },
  SLUICE_SINK_COMMIT_FAILED: { domain: 'external', meaning: "A sink could not commit a checkpoint's output (a pre-committed file is missing)." },
  SLUICE_SINK_FAILED: { domain: 'external', meaning: 'A sink could not write or encode its output.' },
  SLUICE_SINK_OPEN_FAILED: { domain: 'external', meaning: 'A sink could not open its target.' },
  SLUICE_SINK_TIMEOUT: { domain: 'external', meaning: "A sink's write (or a dead-letter append) did not settle within the pipeline's sinkWriteTimeout, or within stopTimeout once a stop was asked for." },
  SLUICE_SOURCE_FAILED: { domain: 'external', meaning: 'A source failed while reading.' },
  SLUICE_SOURCE_NOT_CHECKPOINTABLE: { domain: 'user', meaning: 'A source cannot report its position, so the pipeline cannot be checkpointed.' },
  SLUICE_STATE_CODEC: { domain: 'user', meaning: "A state's codec is unknown or cannot encode or decode a value." },
  SLUICE_STATE_CONFLICT: { domain: 'user', meaning: 'A state is declared twice with different settings.' },
  SLUICE_STATE_KEY: { domain: 'user', meaning: 'A key cannot be stored in keyed state (not a primitive identity, or too long).' },
  SLUICE_STATE_KEY_GROUPS: { domain: 'user', meaning: 'Saved state cannot be split at this parallelism or has another number of key groups.' },
  SLUICE_STATE_NAME: { domain: 'user', meaning: 'A state has no name.' },
  SLUICE_STATE_SNAPSHOT: { domain: 'user', meaning: 'A state snapshot given to restore is not one this backend wrote.' },
  SLUICE_STATE_STORE: { domain: 'external', meaning: 'The durable state store could not be opened or written.' },
  SLUICE_STATE_TTL: { domain: 'user', meaning: "A state's time-to-live settings are invalid." },
  SLUICE_STOP_FAILED: { domain: 'external', meaning: 'A running job refused a stop request (it had ended already).' },
  SLUICE_STOP_TIMEOUT: { domain: 'external', meaning: 'A running job did not answer a stop request in time.' },
  SLUICE_TOKEN_UNKNOWN: { domain: 'user', meaning: 'A token given to detokenize is not in the vault.' },
  SLUICE_TYPE_CHECK_FAILED: { domain: 'user', meaning: 'The pipeline does not type-check (sluice check, or sluice run without --no-check).' },
  SLUICE_UNAUTHORIZED: { domain: 'user', meaning: 'A control-plane call came without a token or with an unknown one (HTTP 401).' },
  SLUICE_UNKNOWN_SIDE_OUTPUT: { domain: 'user', meaning: 'A step has no side output of that name.' },
  SLUICE_USER_FUNCTION_FAILED: { domain: 'user', meaning: 'A user function threw (or rejected) on a record.' },
  SLUICE_WORKFLOW_CYCLE: { domain: 'user', meaning: 'Tasks of a workflow depend on each other in a cycle.' },
  SLUICE_WORKFLOW_INVALID: { domain: 'user', meaning: 'A workflow is not valid: an unknown dependency, a duplicate task, a bad schedule or option.' },
  SLUICE_WORKFLOW_PARTITION: { domain: 'user', meaning: 'A partition key is not one of the workflow.' },
  SLUICE_WORKFLOW_SENSOR_TIMEOUT: { domain: 'user', meaning: 'A workflow sensor waited longer than its timeout for its condition.' },
  SLUICE_WORKFLOW_STORE: { domain: 'external', meaning: "The workflow scheduler's store could not be opened or written." },
  SLUICE_WORKFLOW_TASK_FAILED: { domain: 'user', meaning: 'A workflow task failed (threw, exited non-zero, or its pipeline failed).' },
} as const satisfies Record<`SLUICE_${string}`, { domain: ErrorDomain; meaning: string }>

/** A registered error code. */
export type ErrorCode = keyof typeof ERROR_CODES

/** Whether `code` is registered (for codes that arrive as data: from another thread, a file). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
}

/** docs/errors.md: the table above, grouped by domain. */
export function errorCodesMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error Sluice raises is a `SluiceError` with one of these codes, a domain (whose fault it is: `user`,',
    '`external` or `internal`), whether a retry may help, the step and record position where it applies, and a',
    'hint. Messages never print record contents. A raise may give another domain than the usual one listed here.',
    '',
    'This page is generated from `src/core/error-codes.ts`; a test keeps them equal.',
    '',
  ]
  for (const domain of ['user', 'external', 'internal'] as const) {
    lines.push(`## ${domain}`, '', '| code | meaning |', '|---|---|')
    for (const [code, e] of Object.entries(ERROR_CODES)) if (e.domain === domain) lines.push(`| \`${code}\` | ${e.meaning.replace(/\|/g, '\\|')} |`)
    lines.push('')
  }
  return lines.join('\n')
}
