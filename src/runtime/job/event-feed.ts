import { errorMessage } from '../../core/errors.ts'
import type { JobEvent } from './types.ts'

/** Events an iterator keeps for a reader that does not keep up; older ones are dropped beyond this. */
const ITERATOR_BUFFER = 1024

/**
 * Delivers a job's events to listeners (synchronously, in order of subscription) and to async iterators
 * (each with its own bounded buffer). Closing ends every iteration once its buffer is read.
 */
export class EventFeed {
  private listeners: ((e: JobEvent) => void)[] = []
  private readonly readers = new Set<Reader>()
  private closed = false
  private readonly warn: (msg: string) => void

  constructor(warn: (msg: string) => void) {
    this.warn = warn
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    // A wrapper per subscription: the same function subscribed twice is two subscriptions.
    const entry = (e: JobEvent) => listener(e)
    this.listeners = [...this.listeners, entry]
    return () => {
      this.listeners = this.listeners.filter((l) => l !== entry)
    }
  }

  emit(e: JobEvent): void {
    if (this.closed) return
    for (const l of this.listeners) {
      try {
        l(e)
      } catch (err) {
        this.warn(`a job event listener threw on a '${e.type}' event (ignored): ${errorMessage(err)}`)
      }
    }
    for (const r of this.readers) r.push(e)
  }

  /** Ends every iteration (after what it has buffered); later events go nowhere. */
  close(): void {
    this.closed = true
    for (const r of this.readers) r.end()
    this.readers.clear()
  }

  /** An iteration over the events from now on; once closed, an empty one. */
  iterate(): AsyncIterable<JobEvent> {
    const r = new Reader(() => this.readers.delete(r))
    if (this.closed) r.end()
    else this.readers.add(r)
    return r
  }
}

/** One async iteration's buffer and its waiting reader. */
class Reader implements AsyncIterableIterator<JobEvent> {
  private readonly buffer: JobEvent[] = []
  private ended = false
  private waiting: ((r: IteratorResult<JobEvent, undefined>) => void) | undefined
  private readonly detach: () => void

  constructor(detach: () => void) {
    this.detach = detach
  }

  push(e: JobEvent): void {
    if (this.waiting !== undefined) return this.hand({ value: e, done: false })
    if (this.buffer.length === ITERATOR_BUFFER) this.buffer.shift()
    this.buffer.push(e)
  }

  end(): void {
    this.ended = true
    if (this.waiting !== undefined) this.hand({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<JobEvent, undefined>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false })
    if (this.ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => (this.waiting = resolve))
  }

  return(): Promise<IteratorResult<JobEvent, undefined>> {
    this.buffer.length = 0
    this.end()
    this.detach()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  private hand(r: IteratorResult<JobEvent, undefined>): void {
    const w = this.waiting!
    this.waiting = undefined
    w(r)
  }
}
