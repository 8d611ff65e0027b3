import type { Worker } from 'node:worker_threads'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { HubItem, HubMessage } from './protocol.ts'

/** Bundles the main thread may have sent to one worker and not yet seen answered. */
export const MAX_IN_FLIGHT = 4

/**
 * The main thread's end of the channel to one worker: items are collected in an outbox and posted as one
 * bundle; each bundle takes a credit that comes back when the worker's answer has been handled here.
 */
export class WorkerChannel {
  readonly subtask: number
  readonly worker: Worker
  private outbox: HubItem[] = []
  inFlight = 0
  exited = false

  constructor(subtask: number, worker: Worker) {
    this.subtask = subtask
    this.worker = worker
  }

  send(item: HubItem): void {
    this.outbox.push(item)
  }

  flush(): void {
    if (this.outbox.length === 0) return
    const msg: HubMessage = { items: this.outbox }
    this.outbox = []
    try {
      this.worker.postMessage(msg)
    } catch (e) {
      throw cloneError(e)
    }
    this.inFlight++
  }

  get hasCredit(): boolean {
    return this.inFlight < MAX_IN_FLIGHT
  }
}

/** postMessage failed: records that cross threads must be plain data. */
export function cloneError(e: unknown): SluiceError {
  if (e instanceof SluiceError) return e
  return userError('SLUICE_NOT_CLONEABLE', `a record could not be sent to another thread: ${errorMessage(e)}`, {
    cause: e,
    hint: 'with parallelism above 1, records between steps must be plain data (no functions, no class instances with private state)',
  })
}
