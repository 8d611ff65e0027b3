import type { StepMetricsValues } from '../../core/metrics.ts'
import type { ExpositionOptions } from './exposition.ts'

/** A step figure the exposition derives from the registry's figures and the pipeline's options. */
export interface ExtraStepMetric {
  name: string
  help: string
  type: 'counter' | 'gauge'
  labels: readonly string[]
  value(figures: StepMetricsValues, opts: ExpositionOptions): number
}

const STEP_LABELS = ['pipeline', 'step', 'kind', 'subtask'] as const

/** Step figures besides the catalog's. */
export const EXTRA_STEP_METRICS: readonly ExtraStepMetric[] = [
  {
    name: 'sluice_step_dead_letters_total',
    help: "Records written to the dead-letter log (under onError 'dead-letter' every failed record is one).",
    type: 'counter',
    labels: STEP_LABELS,
    value: (f, o) => (o.deadLetters === true ? f.errors : 0),
  },
]

/** A source's consumer lag per partition it reads, by unit (`ConsumerLag`); only sources that can tell have it. */
export const CONSUMER_LAG_METRICS = {
  records: { name: 'sluice_source_consumer_lag_records', help: 'Records of a partition not yet read: its end offset (Kafka high watermark, log end) minus the position.' },
  bytes: { name: 'sluice_source_consumer_lag_bytes', help: 'Bytes of a file partition not yet read.' },
} as const
export const CONSUMER_LAG_LABELS = [...STEP_LABELS, 'partition'] as const

/** Records that broke a data contract, per step and rule (`StepMetricsValues.violations`); rules come from the contract, never from values. */
export const VIOLATION_METRIC = {
  name: 'sluice_contract_violations_total',
  help: 'Records that broke the data contract of a source or sink, per rule (field path and rule).',
  labels: [...STEP_LABELS, 'rule'],
} as const

/** An `expect` step's results per expectation (`StepMetricsValues.quality`); names come from the pipeline, never from values. */
export const QUALITY_METRICS = {
  windows: { name: 'sluice_quality_windows_total', help: "Windows an expectation of an expect step judged, by result ('passed' or 'failed'); a check over the whole run is one window.", labels: [...STEP_LABELS, 'expectation', 'result'] },
  failed: { name: 'sluice_quality_failed_records_total', help: 'Records that failed an expectation of an expect step (record checks, and keys without a reference for referential).', labels: [...STEP_LABELS, 'expectation'] },
} as const

/** A keyed step's records per key group (`StepMetrics.keyGroupRecords`): 128 series per subtask at most, those it received records of. */
export const KEY_GROUP_METRIC = {
  name: 'sluice_step_key_group_records_total',
  help: 'Records a keyed step received per key group, estimated from one batch in 8: what moving a key group to another subtask would move.',
  labels: [...STEP_LABELS, 'key_group'],
} as const

/** A keyed step's state per key group (`StepMetrics.keyGroupKeys`, `keyGroupBytes`): bounded by the key groups a subtask owns. */
export const KEY_GROUP_STATE_METRICS = {
  keys: { name: 'sluice_step_key_group_state_keys', help: 'Keys a keyed step holds in state per key group (read every 10 s when the state is large).', labels: [...STEP_LABELS, 'key_group'] },
  bytes: { name: 'sluice_step_key_group_state_bytes', help: 'Estimated bytes of a keyed step\'s state per key group (values as held in memory).', labels: [...STEP_LABELS, 'key_group'] },
} as const

/** The pipeline's declared objectives, so that rules and dashboards can read them. */
export const SLO_METRICS = [
  { name: 'sluice_slo_objective_ratio', help: 'Target share of good events of a declared SLO.', labels: ['pipeline', 'slo'] },
  { name: 'sluice_slo_threshold_seconds', help: 'Lag or latency threshold of a declared freshness or latency SLO.', labels: ['pipeline', 'slo'] },
] as const
