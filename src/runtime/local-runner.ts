import { systemClock } from '../core/clock.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { Pipeline } from '../api/pipeline.ts'
import { buildPlan } from '../plan/physical-plan.ts'
import { SourceRunner } from './source-runner.ts'
import { TaskGraph } from './task-graph.ts'
import type { RunOptions, RunSummary } from './run-types.ts'
import { summarize } from './summary.ts'
import { openSink } from './open-sink.ts'
import { progressOf, waitForSources } from './source-wait.ts'
import { CheckpointCoordinator } from '../checkpoint/coordinator.ts'
import { ControlRequests } from '../checkpoint/control.ts'
import { attachDeadLetters } from '../dlq/attach.ts'

const YIELD_EVERY_MS = 20

/**
 * Runs a whole pipeline in this thread. Sources are read one batch at a time, round-robin; a batch goes
 * through every step synchronously; a sink that returns a pending write stops reading until it settles,
 * so a slow sink slows the sources and nothing queues without bound.
 */
export async function runLocal(p: Pipeline, opts: RunOptions = {}): Promise<RunSummary> {
  const clock = opts.clock ?? systemClock
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const plan = buildPlan(p)
  const graph = new TaskGraph(plan, { clock, onError: p.options.onError, ...(p.options.state !== undefined ? { state: p.options.state } : {}) })
  const signal = opts.signal ?? new AbortController().signal
  const runners: SourceRunner[] = []
  for (const v of graph.vertices) {
    if (v === undefined) continue
    const step = v.plan.steps[0]
    if (step.impl.role === 'sink') v.sink = await openSink(step, { pipeline: p.name, stepId: v.plan.id, subtask: 0, checkpointing: opts.checkpoint !== undefined })
    if (step.impl.role === 'source') runners.push(new SourceRunner(v, step.impl.source, clock, graph.errors))
  }
  const deadLetters = await attachDeadLetters(p, graph, { clock })
  const errorsVertex = graph.vertices.find((v) => v?.plan.role === 'errors')
  let status: RunSummary['status'] = 'finished'
  const coordinator = opts.checkpoint === undefined ? undefined : new CheckpointCoordinator(p.name, graph, runners, opts.checkpoint, clock.now())
  const control = opts.checkpoint === undefined ? undefined : new ControlRequests(opts.checkpoint.dir)
  try {
    for (const r of runners) await r.open(signal, p.name)
    await coordinator?.restore()
    let lastYield = performance.now()
    let lastProgress = lastYield
    const progressEvery = opts.progressIntervalMs ?? 1000
    const batchSize = p.options.batchSize
    for (;;) {
      if (signal.aborted) {
        status = 'stopped'
        break
      }
      let progressed = false
      for (const r of runners) {
        if (r.done) continue
        if (r.step(batchSize)) {
          progressed = true
          graph.flushErrors()
          if (graph.pendingWrites.length > 0) await Promise.all(graph.pendingWrites.splice(0))
        }
      }
      if (errorsVertex !== undefined) errorsVertex.setWatermark(Math.min(...runners.map((r) => r.vertex.watermark)))
      const now = clock.now()
      if (graph.nextProcessingTimer() <= now) {
        graph.fireProcessingTimers(now)
        graph.flushErrors()
      }
      for (const r of runners) r.checkIdle(now)
      if (runners.every((r) => r.done)) break
      if (coordinator !== undefined) {
        if (coordinator.due(now)) await coordinator.trigger(now)
        const req = control!.poll()
        if (req !== undefined) {
          await control!.answer(req, () => coordinator.savepoint(clock.now(), req.target))
          if (req.stop) {
            status = 'stopped'
            break
          }
        }
      }
      const t = performance.now()
      if (opts.onProgress !== undefined && t - lastProgress >= progressEvery) {
        lastProgress = t
        opts.onProgress(progressOf(runners, t - started, clock.now()))
      }
      if (!progressed) {
        await waitForWork(runners, graph, clock.now(), signal)
        lastYield = performance.now()
      } else if (t - lastYield >= YIELD_EVERY_MS) {
        // Let timers, signals and I/O callbacks run between batches of synchronous sources.
        await new Promise<void>((resolve) => setImmediate(resolve))
        lastYield = performance.now()
      }
    }
    if (graph.pendingWrites.length > 0) await Promise.all(graph.pendingWrites.splice(0))
    if (status === 'finished') {
      errorsVertex?.setWatermark(Infinity)
      graph.finish()
    }
    if (graph.pendingWrites.length > 0) await Promise.all(graph.pendingWrites.splice(0))
    if (coordinator !== undefined) {
      // A last checkpoint, at the end of input or on a graceful stop, commits what transactional sinks hold.
      await coordinator.trigger(clock.now())
      await coordinator.settle()
    }
    for (const { writer } of graph.sinks()) await writer.close()
    await deadLetters?.close(status === 'finished')
  } catch (e) {
    await Promise.allSettled([...graph.sinks().map(({ writer }) => writer.close()), deadLetters?.close(false)])
    throw e instanceof SluiceError ? e : new SluiceError('SLUICE_INTERNAL', `pipeline '${p.name}' failed: ${errorMessage(e)}`, { domain: 'internal', cause: e })
  } finally {
    await Promise.allSettled([...runners.map((r) => r.close()), coordinator?.close()])
  }
  const state = graph.stateStats()
  graph.closeState()
  return summarize({
    pipeline: p.name,
    status,
    parallelism: 1,
    wallMs: performance.now() - started,
    cpu0,
    recordsIn: runners.reduce((a, r) => a + r.recordsIn, 0),
    watermark: Math.min(...runners.map((r) => r.vertex.watermark)),
    steps: graph.stepMetrics(),
    ...(state.length > 0 ? { state } : {}),
    ...(coordinator !== undefined ? { checkpoints: coordinator.report } : {}),
  })
}

/** Waits for work (see waitForSources), or until the job is stopped. */
async function waitForWork(runners: SourceRunner[], graph: TaskGraph, now: number, signal: AbortSignal): Promise<void> {
  let onAbort: (() => void) | undefined
  const aborted = new Promise<void>((r) => signal.addEventListener('abort', (onAbort = () => r()), { once: true }))
  await waitForSources(runners, graph, now, [aborted])
  if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
}
