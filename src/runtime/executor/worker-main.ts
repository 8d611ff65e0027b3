import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { userError } from '../../core/errors.ts'
import { MetricsRegistry } from '../../observe/metrics/registry.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { SubtaskExecutor } from './executor.ts'
import { layOut, type Spread } from './layout.ts'
import { loadPipeline } from './load.ts'
import { planSignature } from './signature.ts'
import type { Bundle, Item, ThreadRestore } from './protocol.ts'
import { Router } from './router.ts'
import { serializeError } from './serialized-error.ts'
import { SharedClock } from './shared-clock.ts'

/** What thread 0 gives a worker thread. */
export interface WorkerInit {
  module: string
  params: Record<string, string>
  thread: number
  threads: number
  signature: string
  checkpointing: boolean
  /** One port per other thread (undefined at this thread's own index). */
  ports: (MessagePort | undefined)[]
  clock: SharedArrayBuffer | undefined
  /** How thread 0 spread the vertices over the threads. */
  spread: Spread[]
}

/**
 * A worker thread: rebuilds the pipeline from its module, runs its subtask of every vertex with the same executor
 * as thread 0, and talks to every other thread directly.
 */
const init = workerData as WorkerInit
let router: Router | undefined

function fail(e: unknown): void {
  const msg: Bundle = { items: [{ t: 'fail', thread: init.thread, error: serializeError(e) }], ack: 0, data: false }
  if (init.ports[0] !== undefined) init.ports[0].postMessage(msg)
  else parentPort?.postMessage(msg)
  // Stay alive until thread 0 terminates this thread: exiting now could let thread 0 see the exit before the
  // failure, which travels on another channel, and report a bare "exited unexpectedly" instead of the cause.
  setInterval(() => {}, 1 << 30)
}

async function main(): Promise<void> {
  const p = await loadPipeline(init.module, init.params)
  const plan = buildPlan(p)
  if (planSignature(plan) !== init.signature) {
    throw userError('SLUICE_PARALLEL_PLAN_MISMATCH', `module '${init.module}' builds a different pipeline than the one being run (pipeline '${plan.pipeline}')`, {
      hint: 'the module must build the same pipeline every time it is loaded: same steps, same ids, same order',
    })
  }
  const layout = layOut(plan, init.threads, init.checkpointing, init.spread)
  let started: (r: ThreadRestore | undefined) => void = () => {}
  const start = new Promise<ThreadRestore | undefined>((r) => (started = r))
  const controller = new AbortController()
  let executor: SubtaskExecutor | undefined
  const early: { from: number; items: Item[]; data: boolean }[] = []
  router = new Router(init.thread, init.ports, (from, b) => {
    const items = b.items.filter((it) => {
      if (it.t !== 'start') return true
      started(it.restore)
      return false
    })
    if (items.length === 0 && !b.data) return
    if (executor === undefined) early.push({ from, items, data: b.data })
    else executor.receive(from, items, b.data)
  })
  const r = router
  const clock = SharedClock.reader(init.clock)
  executor = new SubtaskExecutor({
    pipeline: p,
    plan,
    layout,
    thread: init.thread,
    clock,
    checkpointing: init.checkpointing,
    // This thread's own registry: the executor posts its export() to thread 0 about once a second.
    registry: new MetricsRegistry({ pipeline: p.name, thread: init.thread, now: () => clock.now() }),
    send: (t, item) => r.send(t, item),
    flush: () => r.flush(),
    hasCredit: () => r.hasCredit,
    giveCredit: (t, n) => r.giveCredit(t, n),
    report: (rep) => r.send(0, rep),
    signal: controller.signal,
  })
  const ex = executor
  r.onUnsendable = (v, input, batch, rows) => ex.unsendable(v, input, batch, rows)
  for (const e of early) executor.receive(e.from, e.items, e.data)
  await executor.open()
  r.send(0, { t: 'ready', thread: init.thread, signature: init.signature })
  r.flush()
  await executor.start(await start)
  try {
    await executor.run()
  } catch (e) {
    await executor.abandon()
    throw e
  }
  r.flush()
}

main().catch(fail)
