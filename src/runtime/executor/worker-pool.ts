import { Worker, type MessagePort } from 'node:worker_threads'
import type { WorkerInit } from './worker-main.ts'

/** A worker left idle this long (ms) after its run is ended: long enough for the next run of a test suite or a benchmark. */
export const IDLE_MS = 30_000
/** A worker that has not finished its thread this long (ms) after thread 0 closed the run is ended, not kept. */
const SETTLE_MS = 5_000

/** What a worker thread posts on its parent port once its run is over and it can take another. */
export interface WorkerIdle {
  t: 'idle'
}

/** What thread 0 posts to an idle worker to give it the thread of another run. */
export interface WorkerRun {
  t: 'run'
  init: WorkerInit
}

/** A worker the pool started, and where it stands. */
interface Pooled {
  worker: Worker
  env: string
  /** Its thread of the current run is over (it posted `idle`). */
  finished: boolean
  /** Called when it posts `idle`. */
  onFinished: (() => void) | undefined
  /** Set while it waits in the pool. */
  timer: NodeJS.Timeout | undefined
}

/**
 * Worker threads kept from one run to the next. Starting a worker costs about half a second of CPU (it loads
 * and compiles the engine and the pipeline's modules), and its code then runs cold (interpreted, then
 * compiled again) where thread 0's is warm: for runs of a few seconds, as many as tests and benchmarks make, that
 * is a large part of what a second thread costs. A worker whose run finished cleanly goes back to the pool
 * and takes the next run's thread (any pipeline: it imports the next run's module); one whose run failed or
 * was given up is terminated. Idle workers do not keep the process alive and end after `IDLE_MS`.
 */
export class WorkerPool {
  private readonly idle: Pooled[] = []
  private readonly byWorker = new WeakMap<Worker, Pooled>()
  /** Workers started so far. */
  started = 0

  /**
   * A worker running `init`: an idle one given the run, or a new one. `env` is the environment a new worker gets;
   * an idle worker is reused only by runs with the same environment.
   */
  take(url: URL, init: WorkerInit, env: NodeJS.ProcessEnv): Worker {
    const key = JSON.stringify(env)
    const transferList = init.ports.filter((x): x is MessagePort => x !== undefined)
    const i = this.idle.findIndex((w) => w.env === key)
    if (i >= 0) {
      const [w] = this.idle.splice(i, 1)
      clearTimeout(w.timer)
      w.timer = undefined
      w.finished = false
      w.worker.ref()
      const msg: WorkerRun = { t: 'run', init }
      w.worker.postMessage(msg, transferList)
      return w.worker
    }
    const worker = new Worker(url, { workerData: init, env, transferList })
    this.started++
    const w: Pooled = { worker, env: key, finished: false, onFinished: undefined, timer: undefined }
    this.byWorker.set(worker, w)
    worker.on('message', (m: unknown) => {
      if ((m as WorkerIdle | undefined)?.t !== 'idle') return
      w.finished = true
      const f = w.onFinished
      w.onFinished = undefined
      f?.()
    })
    // An idle worker that fails or exits leaves the pool; a running one is its run's to report.
    worker.on('error', () => {
      if (w.timer !== undefined) this.end(w)
    })
    worker.on('exit', () => this.forget(w))
    return worker
  }

  /**
   * Takes back a worker whose run finished (its run's listeners already removed): kept once its thread is over,
   * terminated if that does not happen within SETTLE_MS.
   */
  giveBack(worker: Worker): void {
    const w = this.byWorker.get(worker)
    if (w === undefined) {
      void worker.terminate()
      return
    }
    // It must not keep the process alive from here on, whatever it does.
    worker.unref()
    const keep = (): void => {
      w.timer = setTimeout(() => this.end(w), IDLE_MS).unref()
      this.idle.push(w)
    }
    if (w.finished) return keep()
    const settle = setTimeout(() => {
      w.onFinished = undefined
      void worker.terminate()
    }, SETTLE_MS).unref()
    w.onFinished = () => {
      clearTimeout(settle)
      keep()
    }
  }

  /** Terminates every idle worker. */
  async close(): Promise<void> {
    const all = this.idle.splice(0)
    for (const w of all) clearTimeout(w.timer)
    await Promise.allSettled(all.map((w) => w.worker.terminate()))
  }

  /** Idle workers (for tests). */
  get size(): number {
    return this.idle.length
  }

  private end(w: Pooled): void {
    this.forget(w)
    void w.worker.terminate()
  }

  private forget(w: Pooled): void {
    clearTimeout(w.timer)
    w.timer = undefined
    const i = this.idle.indexOf(w)
    if (i >= 0) this.idle.splice(i, 1)
  }
}

/** The process's pool: runs on worker threads take their workers from it. */
export const workerPool = new WorkerPool()
