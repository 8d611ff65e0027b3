import { parentPort, workerData } from 'node:worker_threads'
import { systemClock } from '../../core/clock.ts'
import { internalError, userError } from '../../core/errors.ts'
import { configureErrors } from '../../dlq/attach.ts'
import { buildPlan } from '../../plan/physical-plan.ts'
import { TaskGraph } from '../task-graph.ts'
import { placeVertices, planSignature } from './assign.ts'
import { BarrierGate } from './barrier-gate.ts'
import { encodeState } from '../../checkpoint/state-file.ts'
import { cloneError } from './channel.ts'
import { loadPipeline } from './load.ts'
import { partitionByKey } from './partition.ts'
import { serializeError, type HubItem, type HubMessage, type WorkerInit, type WorkerItem, type WorkerMessage } from './protocol.ts'
import { connectRemote, withoutKeys } from './remote.ts'

/**
 * One subtask of every parallel vertex. It rebuilds the pipeline from its module, runs the parallel vertices
 * of the plan, and answers each bundle from the main thread with one bundle: the outputs for vertices
 * elsewhere (routed by key where the edge is keyed), their watermarks, error records, and the acknowledgement
 * the main thread counts credits with.
 */
const init = workerData as WorkerInit
const port = parentPort!
let items: WorkerItem[] = []
let failed = false
let ended = false

function post(acked: number): void {
  if (acked === 0 && items.length === 0) return
  const msg: WorkerMessage = { acked, items }
  items = []
  try {
    port.postMessage(msg)
  } catch (e) {
    throw cloneError(e)
  }
}

function fail(e: unknown): void {
  if (failed) return
  failed = true
  items = []
  port.postMessage({ acked: 0, items: [{ t: 'fail', error: serializeError(e) }] } satisfies WorkerMessage)
}

async function start(): Promise<void> {
  const p = await loadPipeline(init.module, init.params)
  const plan = buildPlan(p)
  const signature = planSignature(plan)
  if (signature !== init.signature) {
    throw userError('SLUICE_PARALLEL_PLAN_MISMATCH', `module '${init.module}' builds a different pipeline than the one being run (pipeline '${plan.pipeline}')`, {
      hint: 'the module must build the same pipeline every time it is loaded: same steps, same ids, same order',
    })
  }
  const placement = placeVertices(plan)
  const { subtask, parallelism } = init
  const graph = new TaskGraph(plan, { clock: systemClock, onError: p.options.onError, subtask, parallelism, include: (i) => placement[i] === 'parallel', ...(p.options.state !== undefined ? { state: p.options.state } : {}) })
  const errorsToMain = plan.vertices.some((v) => v.role === 'errors')
  configureErrors(p, graph, systemClock)

  // Keyed edges always leave the subtask (records go to the subtask owning their key); other edges leave it
  // when their consumer runs on the main thread.
  connectRemote(
    graph,
    (e) => e.key !== undefined || placement[e.to] === 'main',
    (e) => {
      const { to, input, key } = e
      const targetId = plan.vertices[to].id
      if (placement[to] === 'main') {
        return {
          push: (batch) => void items.push({ t: 'data', to, input, batch: key === undefined ? withoutKeys(batch) : graph.withKeys(batch, key, targetId) }),
          inputWatermark: (_i, wm) => void items.push({ t: 'wm', to, input, wm }),
          inputIdle: () => void items.push({ t: 'idle', to, input }),
        }
      }
      if (key === undefined) throw internalError(`edge into parallel step '${targetId}' has no key`)
      return {
        // Through the main thread even to this subtask: it aligns records with the watermark combined over subtasks.
        push(batch) {
          const parts = partitionByKey(graph.withKeys(batch, key, targetId), parallelism)
          for (let sub = 0; sub < parts.length; sub++) {
            const part = parts[sub]
            if (part !== undefined) items.push({ t: 'data', to, input, sub, batch: part })
          }
        },
        // The target's watermark for this input is the minimum over all subtasks: the main thread combines them.
        inputWatermark: (_i, wm) => void items.push({ t: 'wm', to, input, wm }),
        inputIdle: () => void items.push({ t: 'idle', to, input }),
      }
    },
  )

  // With checkpoints, a vertex fed by other vertices of this subtask (a forward edge) snapshots once the barrier
  // has come through all its inputs; keyed vertices are fed through the main thread, which aligns them.
  let barrierId = 0
  const gates: (BarrierGate | undefined)[] = []
  if (init.checkpointing === true) {
    for (const v of graph.vertices) {
      if (v === undefined || v.plan.inputs.every((i) => i.key !== undefined || placement[i.from] === 'main')) continue
      const index = v.plan.index
      gates[index] = new BarrierGate(v.plan.inputs.length, v.plan.id, () => aligned(index), fail)
    }
    connectRemote(
      graph,
      (e) => gates[e.to] !== undefined && e.key === undefined && placement[e.to] === 'parallel',
      (e) => {
        const target = graph.vertices[e.to]!
        const gate = gates[e.to]!
        return {
          push: (batch, input) => gate.pass(input, () => target.push(batch, input)),
          inputWatermark: (input, wm) => gate.pass(input, () => target.inputWatermark(input, wm)),
          inputIdle: (input) => gate.pass(input, () => target.inputIdle(input)),
        }
      },
    )
  }

  /** Vertex `index` has the barrier on all its inputs: snapshot it and pass the barrier to its consumers. */
  const aligned = (index: number): void => {
    flushErrors()
    const t0 = performance.now()
    const v = graph.vertices[index]!
    // Encoded right away: the snapshot may share live state, and this bundle's later items change it.
    const snap = v.operator?.snapshot?.()
    const state = snap === undefined ? undefined : encodeState(snap)
    const steps = v.plan.steps.map((s) => graph.metrics.get(s.id)!.toJSON())
    const wm = { watermark: v.watermark, forwarded: v.forwarded, inputs: v.inWm.slice() }
    items.push({ t: 'snapshot', v: index, id: barrierId, state, wm, steps, ms: performance.now() - t0 })
    for (const c of plan.consumers[index]) {
      if (c.key !== undefined || placement[c.to] === 'main') items.push({ t: 'barrier', to: c.to, input: c.input, id: barrierId })
      else gates[c.to]!.barrier(c.input)
    }
  }

  const flushErrors = (): void => {
    if (graph.errors.letters.length > 0) items.push({ t: 'dead-letters', letters: graph.errors.letters.splice(0) })
    if (errorsToMain) {
      if (graph.errors.pending.length > 0) items.push({ t: 'errors', batch: graph.errors.pending.take() })
    } else {
      graph.flushErrors()
    }
  }

  const handle = (it: HubItem): void => {
    switch (it.t) {
      case 'data':
        graph.vertices[it.v]!.push(it.batch, it.input)
        break
      case 'wm':
        graph.vertices[it.v]!.inputWatermark(it.input, it.wm)
        break
      case 'idle':
        graph.vertices[it.v]!.inputIdle(it.input)
        break
      case 'finish': {
        const v = graph.vertices[it.v]!
        v.operator?.finish?.(v)
        break
      }
      case 'barrier':
        barrierId = it.id
        aligned(it.v)
        break
      case 'restore':
        for (const r of it.vertices) {
          const v = graph.vertices[r.v]!
          if (r.state !== undefined) {
            if (v.operator?.restore === undefined) throw internalError(`step '${v.plan.id}' has saved state but cannot restore it`)
            v.operator.restore(r.state)
          }
          if (r.wm !== undefined) {
            v.watermark = r.wm.watermark
            v.forwarded = r.wm.forwarded
            r.wm.inputs.forEach((x, i) => {
              if (i < v.inWm.length) v.inWm[i] = x
            })
          }
        }
        break
      case 'end':
        ended = true
        items.push({ t: 'metrics', steps: graph.stepMetrics() })
        graph.closeState()
        break
    }
    flushErrors()
  }

  let timer: NodeJS.Timeout | undefined
  let timerAt = Infinity
  const scheduleTimers = (): void => {
    const next = graph.nextProcessingTimer()
    if (failed || ended || next === Infinity) {
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      timerAt = Infinity
      return
    }
    if (timer !== undefined && timerAt <= next) return
    if (timer !== undefined) clearTimeout(timer)
    timerAt = next
    timer = setTimeout(onTimer, Math.min(Math.max(0, next - systemClock.now()), 60_000))
  }
  const onTimer = (): void => {
    timer = undefined
    timerAt = Infinity
    if (failed || ended) return
    try {
      graph.fireProcessingTimers(systemClock.now())
      flushErrors()
      post(0)
    } catch (e) {
      fail(e)
    }
    scheduleTimers()
  }

  port.on('message', (msg: HubMessage) => {
    if (failed) return
    try {
      for (const it of msg.items) handle(it)
      post(1)
    } catch (e) {
      fail(e)
      return
    }
    scheduleTimers()
  })
  items.push({ t: 'ready', signature })
  post(0)
}

start().catch(fail)
