import type { CheckpointStats } from '../../checkpoint/manifest.ts'
import type { MetricsRegistry } from '../../observe/metrics/registry.ts'
import type { RunSummary } from '../run-types.ts'
import { JobControl, type JobControlOptions } from './control.ts'
import type { JobEvent, JobHandle, JobInspector, JobStatus } from './types.ts'

/**
 * A job's two sides: the handle its user holds, and the control its runner serves. The handle's metrics are
 * the registry's snapshots.
 * @example
 * const { handle, control } = createJob('clicks', new MetricsRegistry({ pipeline: 'clicks' }))
 * control.setStatus('running')
 * handle.status().status // 'running'
 */
export function createJob(pipeline: string, registry: MetricsRegistry, opts: JobControlOptions = {}): { handle: JobHandle; control: JobControl } {
  const control = new JobControl(pipeline, registry, opts)
  return { handle: new Handle(control), control }
}

class Handle implements JobHandle {
  readonly pipeline: string
  readonly done: Promise<RunSummary>
  private readonly control: JobControl

  constructor(control: JobControl) {
    this.control = control
    this.pipeline = control.pipeline
    this.done = control.done
  }

  status(): { status: JobStatus; since: number } {
    return this.control.status()
  }

  metrics() {
    return this.control.registry.snapshot()
  }

  on(listener: (e: JobEvent) => void): () => void {
    return this.control.subscribe(listener)
  }

  events(): AsyncIterable<JobEvent> {
    return this.control.events()
  }

  async checkpoint(): Promise<CheckpointStats> {
    return (await this.control.request('checkpoint'))!
  }

  async savepoint(target: string, opts: { stop?: boolean } = {}): Promise<CheckpointStats> {
    return (await this.control.request('savepoint', { target, stop: opts.stop === true }))!
  }

  async stop(): Promise<RunSummary> {
    // A stop already asked for (or the end of input under way) ends the job anyway: wait for it.
    if (!this.control.stopping || this.control.isEnded) await this.control.request('stop')
    return this.done
  }

  cancel(): Promise<void> {
    return this.control.cancel()
  }

  checkpointInterval(): number | undefined {
    return this.control.isEnded ? undefined : this.control.checkpointing?.intervalMs()
  }

  setCheckpointInterval(ms: number): void {
    this.control.setCheckpointInterval(ms)
  }

  inspect(): JobInspector {
    return this.control.inspector
  }
}
