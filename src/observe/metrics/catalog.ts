import { internalError } from '../../core/errors.ts'
import type { StepMetricsValues } from '../../core/metrics.ts'
import type { CheckpointMetrics, MetricsSnapshot } from './registry.ts'

/**
 * How one figure of the registry is published: an exporter (Prometheus, OpenTelemetry) reads the value at
 * `field`, multiplies it by `scale` to get base units (seconds, bytes), and names it `name`.
 */
export interface MetricInfo {
  /** Prometheus-style name: `sluice_` prefix, base unit and `_total` for counters in the name. */
  name: string
  help: string
  type: 'counter' | 'gauge'
  unit: 'records' | 'calls' | 'bytes' | 'seconds' | 'keys' | 'checkpoints' | 'restarts' | 'info'
  labels: readonly string[]
  /** Where the value lives: a field of a step's figures, of the checkpoint figures, or of the snapshot. */
  field: StepField | `checkpoints.${CheckpointField}` | 'restarts' | 'startedAt' | 'status'
  /** Factor from the registry's value to the base unit (ms to seconds: 0.001). */
  scale: number
}

type StepField = Exclude<keyof StepMetricsValues, 'step' | 'kind' | 'subtask' | 'input' | 'latency' | 'consumerLag' | 'hotKeys' | 'violations' | 'quality' | 'keyGroupRecords' | 'keyGroupKeys' | 'keyGroupBytes'>
type CheckpointField = Exclude<keyof CheckpointMetrics, 'restoredFrom' | 'restoreMs' | 'lastDelta'>

const STEP_LABELS = ['pipeline', 'step', 'kind', 'subtask'] as const
const JOB_LABELS = ['pipeline'] as const
const MS = 0.001

function step(field: StepField, name: string, type: MetricInfo['type'], unit: MetricInfo['unit'], help: string, scale = 1): MetricInfo {
  return { name: `sluice_step_${name}`, help, type, unit, labels: STEP_LABELS, field, scale }
}

function checkpoint(field: CheckpointField, name: string, type: MetricInfo['type'], unit: MetricInfo['unit'], help: string, scale = 1): MetricInfo {
  return { name: `sluice_checkpoint_${name}`, help, type, unit, labels: JOB_LABELS, field: `checkpoints.${field}`, scale }
}

/** Figures kept per step and subtask (`MetricsSnapshot.subtasks`). */
export const STEP_METRICS: readonly MetricInfo[] = [
  step('recordsIn', 'input_records_total', 'counter', 'records', 'Records the step received (read, for a source).'),
  step('recordsOut', 'output_records_total', 'counter', 'records', 'Records the step emitted.'),
  step('late', 'late_records_total', 'counter', 'records', 'Records later than the allowed lateness, sent to the late output.'),
  step('errors', 'errors_total', 'counter', 'records', 'Records whose user function failed.'),
  step('dropped', 'dropped_records_total', 'counter', 'records', 'Records dropped on purpose (error policy skip, unconsumed side output).'),
  step('retries', 'retries_total', 'counter', 'calls', 'User function calls repeated after a transient error, and requests a sink sent again.'),
  step('bytesIn', 'input_bytes_total', 'counter', 'bytes', 'Bytes read or received (0 where unknown).'),
  step('bytesOut', 'output_bytes_total', 'counter', 'bytes', 'Bytes written or sent (0 where unknown).'),
  step('watermark', 'watermark_seconds', 'gauge', 'seconds', 'Input watermark, event time in seconds since the epoch (-Inf before the first).', MS),
  step('inputLagMs', 'input_lag_seconds', 'gauge', 'seconds', 'Processing time minus the input watermark (NaN when unknown).', MS),
  step('backpressureMs', 'backpressure_seconds_total', 'counter', 'seconds', 'Time spent blocked on a full output channel.', MS),
  step('busyMs', 'busy_seconds_total', 'counter', 'seconds', 'Time spent handling batches (the step\'s own, without the steps it feeds on the same thread).', MS),
  step('stateKeys', 'state_keys', 'gauge', 'keys', 'Keys held in keyed state.'),
  step('stateBytes', 'state_bytes', 'gauge', 'bytes', 'Size of keyed state: what a restore reads (the last full snapshot plus the deltas since).'),
  step('stateEntries', 'state_entries', 'gauge', 'keys', 'Entries of the state backend (values, map entries, list items, timers).'),
  step('stateEntriesWithoutTtl', 'state_entries_without_ttl', 'gauge', 'keys', 'State backend entries in states without a TTL (they only go when the function clears them).'),
]

/** Figures kept per job (`MetricsSnapshot` top level and `checkpoints`). */
export const JOB_METRICS: readonly MetricInfo[] = [
  { name: 'sluice_job_status', help: 'Job status: 1 for the current one (label status).', type: 'gauge', unit: 'info', labels: [...JOB_LABELS, 'status'], field: 'status', scale: 1 },
  { name: 'sluice_job_start_time_seconds', help: 'When the job started, seconds since the epoch.', type: 'gauge', unit: 'seconds', labels: JOB_LABELS, field: 'startedAt', scale: MS },
  { name: 'sluice_job_restarts_total', help: 'Restarts after a failure.', type: 'counter', unit: 'restarts', labels: JOB_LABELS, field: 'restarts', scale: 1 },
  checkpoint('completed', 'completed_total', 'counter', 'checkpoints', 'Checkpoints completed.'),
  checkpoint('failed', 'failed_total', 'counter', 'checkpoints', 'Checkpoints that failed.'),
  checkpoint('deltas', 'incremental_total', 'counter', 'checkpoints', 'Completed checkpoints that were incremental.'),
  checkpoint('restored', 'restored_total', 'counter', 'checkpoints', 'Restores from a checkpoint or savepoint.'),
  checkpoint('lastId', 'last_id', 'gauge', 'info', 'Id of the last completed checkpoint (0 before the first).'),
  checkpoint('lastDurationMs', 'last_duration_seconds', 'gauge', 'seconds', 'Duration of the last completed checkpoint.', MS),
  checkpoint('lastBytes', 'last_size_bytes', 'gauge', 'bytes', 'Size of the last completed checkpoint.'),
  checkpoint('lastAlignmentMs', 'last_alignment_seconds', 'gauge', 'seconds', 'Barrier alignment time of the last completed checkpoint.', MS),
  checkpoint('lastSyncMs', 'last_sync_seconds', 'gauge', 'seconds', 'Synchronous snapshot time (processing paused) of the last completed checkpoint.', MS),
  checkpoint('lastAsyncMs', 'last_async_seconds', 'gauge', 'seconds', 'Write and fsync time of the last completed checkpoint.', MS),
]

/**
 * The value of a job metric in base units (`status` gives 1: the status is a label).
 * @example jobValue(snapshot, JOB_METRICS[2]) // restarts
 */
export function jobValue(s: MetricsSnapshot, m: MetricInfo): number {
  if (m.field === 'status') return 1
  if (m.field === 'restarts' || m.field === 'startedAt') return s[m.field] * m.scale
  if (m.field.startsWith('checkpoints.')) return s.checkpoints[m.field.slice('checkpoints.'.length) as CheckpointField] * m.scale
  throw internalError(`metric '${m.name}' is not a job metric`)
}

/**
 * The value of a step metric in base units, for one subtask's or one step's figures.
 * @example stepValue(snapshot.subtasks[0], STEP_METRICS[0]) // records in
 */
export function stepValue(figures: Omit<StepMetricsValues, 'subtask'>, m: MetricInfo): number {
  return figures[m.field as StepField] * m.scale
}
