import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import type { Bundle } from './protocol.ts'
import { serializeError } from './serialized-error.ts'
import { runThread, type ThreadInit } from './thread.ts'
import type { WorkerIdle, WorkerRun } from './worker-pool.ts'

/** What thread 0 gives a worker thread. */
export interface WorkerInit extends ThreadInit {
  /** One port per other thread (undefined at this thread's own index). */
  ports: (MessagePort | undefined)[]
}

/**
 * A worker thread: rebuilds the pipeline from its module, runs its subtask of every vertex with the same executor
 * as thread 0, and talks to every other thread directly. Once its run is over it tells its parent, which may
 * give it the thread of another run (see worker-pool.ts).
 */
function fail(init: WorkerInit, e: unknown): void {
  const msg: Bundle = { items: [{ t: 'fail', thread: init.thread, error: serializeError(e) }], ack: 0, data: false }
  if (init.ports[0] !== undefined) init.ports[0].postMessage(msg)
  else parentPort?.postMessage(msg)
  // Stay alive until thread 0 terminates this thread: exiting now could let thread 0 see the exit before the
  // failure, which travels on another channel, and report a bare "exited unexpectedly" instead of the cause.
  setInterval(() => {}, 1 << 30)
}

async function serve(init: WorkerInit): Promise<void> {
  try {
    await runThread(init, init.ports)
  } catch (e) {
    fail(init, e)
    return
  }
  for (const p of init.ports) p?.close()
  const idle: WorkerIdle = { t: 'idle' }
  parentPort?.postMessage(idle)
}

parentPort?.on('message', (m: WorkerRun) => {
  if (m.t === 'run') void serve(m.init)
})
void serve(workerData as WorkerInit)
