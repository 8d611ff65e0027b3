import type { StateOptions } from '../../core/state-options.ts'
import { userError } from '../../core/errors.ts'
import { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { SpanRecorder, type StepTraceOptions } from '../../observe/trace/step-spans.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { SubtaskExecutor } from './executor.ts'
import { layOut, type Spread } from './layout.ts'
import { loadPipeline } from './load.ts'
import { planSignature } from './signature.ts'
import type { Command, Item, Report } from './protocol.ts'
import type { OwnStateFiles } from '../../checkpoint/own-state-files.ts'
import type { OwnSavepointFiles } from '../../checkpoint/own-savepoint-files.ts'
import type { StateFileRef } from '../../checkpoint/manifest.ts'

type StartItem = Extract<Command, { t: 'start' }>
import { Router, type ExchangePort } from './router.ts'
import { SharedClock } from './shared-clock.ts'

/** What a thread other than thread 0 needs to run its subtasks. */
export interface ThreadInit {
  module: string
  params: Record<string, string>
  thread: number
  threads: number
  signature: string
  checkpointing: boolean
  clock: SharedArrayBuffer | undefined
  /** How thread 0 spread the vertices over the threads. */
  spread: Spread[]
  /** Step spans, when the run is traced. */
  trace?: StepTraceOptions
  /** Where keyed state lives, as thread 0 resolved it (run options over the pipeline's). */
  state?: StateOptions
}

/** The state files a thread stages and uploads itself, rather than leaving them for thread 0 (see runThread). */
export interface OwnFiles {
  checkpoints?: Pick<OwnStateFiles, 'staging' | 'store' | 'committed'>
  savepoints?: Pick<OwnSavepointFiles, 'staging' | 'store'>
}

/**
 * Runs thread `init.thread` of a run (a worker thread, or a Kafka runner's worker process): rebuilds the
 * pipeline from its module, runs its subtask of every vertex with the same executor as thread 0, and talks to
 * every other thread through `ports`. Returns when thread 0 closes the run; throws the first failure, or the
 * reason of `abandon` once it aborts (the run is given up without closing anything cleanly). `step` hears of
 * every step that waits on another thread (a worker process logs them). With `own.checkpoints`, the thread's
 * subtasks stage their checkpoints' state files on this machine and it uploads them before their
 * acknowledgements go to thread 0 (a process on another machine than thread 0's, checkpointing into a
 * bucket); with `own.savepoints`, the same for savepoints into a bucket.
 */
export async function runThread(init: ThreadInit, ports: (ExchangePort | undefined)[], abandon?: AbortSignal, step: (s: string) => void = () => {}, own: OwnFiles = {}): Promise<void> {
  const p = await loadPipeline(init.module, init.params)
  const plan = buildPlan(p)
  if (planSignature(plan) !== init.signature) {
    throw userError('SLUICE_PARALLEL_PLAN_MISMATCH', `module '${init.module}' builds a different pipeline than the one being run (pipeline '${plan.pipeline}')`, {
      hint: 'the module must build the same pipeline every time it is loaded: same steps, same ids, same order',
    })
  }
  const layout = layOut(plan, init.threads, init.checkpointing, init.spread)
  let started: (r: StartItem) => void = () => {}
  let given: (e: unknown) => void = () => {}
  const start = new Promise<StartItem>((res, rej) => {
    started = res
    given = rej
  })
  // Given up before it was awaited: the rejection is seen where it is awaited, not reported as unhandled.
  start.catch(() => {})
  const controller = new AbortController()
  let executor: SubtaskExecutor | undefined
  const early: { from: number; items: Item[]; data: boolean }[] = []
  // The round (checkpoint or savepoint) whose state files this thread stages and stores itself, and how.
  let ownRound: { id: number; store: (refs: StateFileRef[]) => Promise<StateFileRef[]> } | undefined
  const fromThread0 = (it: Item): Item => {
    if (it.t === 'commit') own.checkpoints?.committed()
    if (it.t !== 'checkpoint') return it
    ownRound = undefined
    const { checkpoints, savepoints } = own
    const { id, spec } = it
    if (spec.kind === 'checkpoint' && checkpoints !== undefined) {
      ownRound = { id, store: (refs) => checkpoints.store(id, refs) }
      return { ...it, spec: { ...spec, staging: checkpoints.staging(id) } }
    }
    const target = spec.target
    if (spec.kind === 'savepoint' && target !== undefined && savepoints !== undefined) {
      ownRound = { id, store: (refs) => savepoints.store(target, id, refs) }
      return { ...it, spec: { ...spec, staging: savepoints.staging(target, id) } }
    }
    return it
  }
  const router = new Router(init.thread, ports, (from, b) => {
    const items = b.items.filter((it) => {
      if (it.t !== 'start') return true
      started(it)
      return false
    })
    if ((own.checkpoints !== undefined || own.savepoints !== undefined) && from === 0) for (let i = 0; i < items.length; i++) items[i] = fromThread0(items[i])
    if (items.length === 0 && !b.data) return
    if (executor === undefined) early.push({ from, items, data: b.data })
    else executor.receive(from, items, b.data)
  })
  const r = router
  // Reports wait, in order, behind an acknowledgement whose files are being uploaded.
  let reporting: Promise<void> | undefined
  const report = (rep: Report): void => {
    const round = ownRound
    const ack = rep.t === 'ack' && rep.ack.kind === 'operator' && rep.ack.files !== undefined && round?.id === rep.ack.id ? rep.ack : undefined
    if (ack === undefined && reporting === undefined) return r.send(0, rep)
    const next = (reporting ?? Promise.resolve()).then(async () => {
      r.send(0, ack === undefined ? rep : { t: 'ack', ack: { ...ack, files: await round!.store(ack.files!), stored: true } })
      r.flush()
    })
    reporting = next
    next.then(
      () => {
        if (reporting === next) reporting = undefined
      },
      (e: unknown) => executor?.fail(e),
    )
  }
  const clock = SharedClock.reader(init.clock)
  executor = new SubtaskExecutor({
    pipeline: p,
    plan,
    layout,
    thread: init.thread,
    clock,
    checkpointing: init.checkpointing,
    ...(init.state !== undefined ? { state: init.state } : {}),
    // This thread's own registry: the executor posts its export() to thread 0 about once a second.
    registry: new MetricsRegistry({ pipeline: p.name, thread: init.thread, now: () => clock.now() }),
    send: (t, item) => r.send(t, item),
    flush: () => r.flush(),
    hasCredit: () => r.hasCredit,
    giveCredit: (t, n) => r.giveCredit(t, n),
    report,
    signal: controller.signal,
    ...(init.trace !== undefined ? { spans: new SpanRecorder(p.name, init.trace) } : {}),
  })
  const ex = executor
  r.onUnsendable = (v, input, batch, rows) => ex.unsendable(v, input, batch, rows)
  const onAbandon = (): void => {
    given(abandon!.reason)
    ex.fail(abandon!.reason)
  }
  if (abandon?.aborted === true) throw abandon.reason
  abandon?.addEventListener('abort', onAbandon)
  try {
    for (const e of early) executor.receive(e.from, e.items, e.data)
    try {
      step('opening its subtasks')
      await executor.open()
      r.send(0, { t: 'ready', thread: init.thread, signature: init.signature })
      r.flush()
      step('ready: waiting for thread 0 to start the run')
      const { restore, splits } = await start
      step('started: running')
      await executor.start(restore, splits)
      await executor.run()
      // Acknowledgements still uploading go out before the thread ends.
      for (let last = reporting; last !== undefined; last = reporting === last ? undefined : reporting) await last
    } catch (e) {
      await executor.abandon()
      throw e
    }
    r.flush()
  } finally {
    abandon?.removeEventListener('abort', onAbandon)
  }
}
