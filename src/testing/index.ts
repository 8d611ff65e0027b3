// `sluice/testing`: harnesses that put a test in control of input and time.
export { OperatorHarness, type HarnessInput, type HarnessRecord } from './operator-harness.ts'
export { PipelineHarness, type HarnessBuild, type HarnessBuilder, type HarnessSnapshot, type PipelineHarnessOptions, type TimedValue } from './pipeline-harness.ts'
