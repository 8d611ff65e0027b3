import { MessagePort, receiveMessageOnPort } from 'node:worker_threads'
import { SluiceError, errorMessage, userError } from '../../core/errors.ts'
import type { Batch } from '../../core/batch.ts'
import { decodeBatch, encodeBatch } from './batch-codec.ts'
import type { Bundle, Item, WireBundle, WireItem } from './protocol.ts'

/**
 * One end of the channel to another thread: a `MessagePort` between worker threads, or any carrier that
 * delivers bundles in order (the Kafka runner's exchange topic between processes).
 */
export interface ExchangePort {
  postMessage(w: WireBundle): void
  on(event: 'message', f: (w: WireBundle) => void): unknown
  close(): void
}

/** Bundles of records a thread may have sent to another and not yet seen handled. */
export const MAX_IN_FLIGHT = 4

/**
 * One thread's ends of the direct channels to every other thread (a MessagePort per pair, never relayed):
 * items are collected per destination and posted as one bundle; a bundle holding records takes a credit that
 * comes back when the receiver has handled it. A thread out of credit towards any other stops reading its
 * sources; it always handles what arrives, so the graph drains and nothing waits in a cycle.
 */
export class Router {
  private readonly thread: number
  private readonly ports: (ExchangePort | undefined)[]
  private readonly outbox: WireItem[][]
  private readonly hasData: boolean[]
  private readonly acks: number[]
  private readonly inFlight: number[]
  private readonly onBundle: (from: number, b: Bundle) => void
  private polling = false
  /** Called with the records of a batch bound to input `input` of vertex `v` that cannot be sent (not plain data); unset: the job fails. */
  onUnsendable: ((v: number, input: number, batch: Batch, rows: number[]) => void) | undefined = undefined

  constructor(thread: number, ports: (ExchangePort | undefined)[], onBundle: (from: number, b: Bundle) => void) {
    this.thread = thread
    this.ports = ports
    this.onBundle = onBundle
    this.outbox = ports.map(() => [])
    this.hasData = ports.map(() => false)
    this.acks = ports.map(() => 0)
    this.inFlight = ports.map(() => 0)
    ports.forEach((port, from) => {
      if (port === undefined) return
      port.on('message', (w: WireBundle) => this.take(from, w))
    })
  }

  send(to: number, item: Item): void {
    if (item.t === 'data') {
      this.hasData[to] = true
      this.outbox[to].push({ t: 'wire', v: item.v, input: item.input, ch: item.ch, batch: encodeBatch(item.batch) })
    } else {
      this.outbox[to].push(item)
    }
  }

  /** `n` bundles from `to` have been handled: their credits go back with the next bundle (or alone). */
  giveCredit(to: number, n: number): void {
    this.acks[to] += n
  }

  get hasCredit(): boolean {
    for (let t = 0; t < this.inFlight.length; t++) if (this.inFlight[t] >= MAX_IN_FLIGHT) return false
    return true
  }

  /** Posts what was collected for each thread (and the credits owed to it), then takes in what has arrived. */
  flush(): void {
    for (let t = 0; t < this.ports.length; t++) {
      const port = this.ports[t]
      if (port === undefined || (this.outbox[t].length === 0 && this.acks[t] === 0)) continue
      const b: WireBundle = { items: this.outbox[t], ack: this.acks[t], data: this.hasData[t] }
      this.outbox[t] = []
      this.acks[t] = 0
      this.hasData[t] = false
      try {
        port.postMessage(b)
      } catch (e) {
        // Rare: some record is not plain data. Those go to the error path; the rest is sent.
        if (!this.dropUnsendable(b)) throw cloneError(e)
        try {
          port.postMessage(b)
        } catch (again) {
          throw cloneError(again)
        }
      }
      if (b.data) this.inFlight[t]++
    }
    this.poll()
  }

  /**
   * Takes the records that cannot be cloned out of a bundle's batches, handing each batch's to `onUnsendable`
   * (the error path); true if there were any.
   */
  private dropUnsendable(b: WireBundle): boolean {
    const report = this.onUnsendable
    if (report === undefined) return false
    let any = false
    const items: WireItem[] = []
    for (const it of b.items) {
      if (it.t !== 'wire') {
        items.push(it)
        continue
      }
      const batch = decodeBatch(it.batch)
      const bad: number[] = []
      for (let i = 0; i < batch.values.length; i++) if (!cloneable(batch.values[i]) || (batch.keys !== undefined && !cloneable(batch.keys[i]))) bad.push(i)
      if (bad.length === 0) {
        items.push(it)
        continue
      }
      any = true
      report(it.v, it.input, batch, bad)
      const rest = withoutRows(batch, bad)
      if (rest.values.length > 0) items.push({ ...it, batch: encodeBatch(rest) })
    }
    b.items = items
    return any
  }

  private take(from: number, w: WireBundle): void {
    if (w.ack > 0) this.inFlight[from] -= w.ack
    this.onBundle(from, decode(w))
  }

  /**
   * Takes in what other threads have posted, without waiting for the event loop: a thread busy with its sources
   * reaches its event loop only every few milliseconds, and meanwhile its peers would wait for credits and their
   * records for it.
   */
  poll(): void {
    if (this.polling) return
    this.polling = true
    try {
      for (let from = 0; from < this.ports.length; from++) {
        const port = this.ports[from]
        // Other carriers deliver through their own loop.
        if (!(port instanceof MessagePort)) continue
        for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) this.take(from, m.message as WireBundle)
      }
    } finally {
      this.polling = false
    }
  }

  close(): void {
    for (const p of this.ports) p?.close()
  }
}

function decode(w: WireBundle): Bundle {
  const items = w.items as (WireItem | Item)[]
  for (let i = 0; i < items.length; i++) {
    const it = items[i]
    if (it.t === 'wire') items[i] = { t: 'data', v: it.v, input: it.input, ch: it.ch, batch: decodeBatch(it.batch) }
  }
  return { items: items as Item[], ack: w.ack, data: w.data }
}

function cloneable(v: unknown): boolean {
  try {
    structuredClone(v)
    return true
  } catch {
    return false
  }
}

/** `b` without the rows at the (ascending) indices `rows`. */
function withoutRows(b: Batch, rows: number[]): Batch {
  const drop = new Set(rows)
  const keep = (_: unknown, i: number) => !drop.has(i)
  return {
    values: b.values.filter(keep),
    times: b.times.filter(keep),
    ...(b.keys ? { keys: b.keys.filter(keep) } : {}),
    ...(b.kinds ? { kinds: b.kinds.filter(keep) } : {}),
    ...(b.pos ? { pos: b.pos.filter(keep) } : {}),
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
