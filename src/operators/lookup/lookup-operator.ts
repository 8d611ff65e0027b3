import type { Batch, Position, RowKind } from '../../core/batch.ts'
import { SluiceError, errorMessage } from '../../core/errors.ts'
import type { Operator, OperatorContext, Output } from '../../core/operator.ts'
import { LookupCache } from './cache.ts'
import type { LookupFunction, ResolvedLookupOptions } from './options.ts'

const keyText = (k: unknown) => (typeof k === 'string' ? k : JSON.stringify(k, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)))

/**
 * The async lookup step: for each batch, one lookup per distinct key not in the cache, at most
 * `concurrency` in flight on the subtask (the input waits beyond that), each with a timeout and retries.
 * Results are emitted per batch (in batch order when `ordered`); a lookup that still fails sends its
 * records to the error path. Lookups in flight finish before a barrier passes the step (`drain`), so a
 * checkpoint holds none, and the watermark is held at the oldest record in flight.
 */
export class LookupOperator<T, K, R, U> implements Operator {
  private readonly fn: LookupFunction<K, R>
  private readonly o: ResolvedLookupOptions<T, K, R, U>
  private readonly ctx: OperatorContext
  private readonly cache: LookupCache<R> | undefined
  /** Batches in flight, with the oldest event time of each (for the watermark hold). */
  private readonly tasks = new Map<Promise<void>, number>()
  /** The emission of the batch before, for ordered output. */
  private lastEmitted: Promise<void> = Promise.resolve()
  /** Lookups in flight by key. */
  private readonly looking = new Map<string, Promise<{ result: R } | { error: unknown }>>()
  private running = 0
  private waiting: (() => void)[] = []
  /** The input's wait for room (see `waitForRoom`), settled when there is room or a lookup failed. */
  private room: PromiseWithResolvers<void> | undefined
  private failure: unknown

  constructor(fn: LookupFunction<K, R>, options: ResolvedLookupOptions<T, K, R, U>, ctx: OperatorContext) {
    this.fn = fn
    this.o = options
    this.ctx = ctx
    this.cache = options.cache === undefined ? undefined : new LookupCache<R>(options.cache.ttlMs, options.cache.max)
  }

  process(batch: Batch, out: Output): void {
    if (this.failure !== undefined) throw this.failure
    if (batch.values.length === 0) return
    let oldest = Infinity
    for (const t of batch.times) if (t < oldest) oldest = t
    // Ordered: this batch is emitted after the one before, whichever's lookups finish first.
    const previous = this.lastEmitted
    const task = this.run(batch as Batch<T>, out, previous).catch((e: unknown) => {
      this.failure ??= e
    })
    if (this.o.ordered) this.lastEmitted = task
    const tracked = task.then(() => {
      this.tasks.delete(tracked)
      this.checkRoom()
    })
    this.tasks.set(tracked, oldest)
  }

  private async run(batch: Batch<T>, out: Output, previous: Promise<void>): Promise<void> {
    const { values } = batch
    const n = values.length
    const keys: string[] = new Array(n)
    const found: ({ result: R } | { error: unknown })[] = new Array(n)
    const misses = new Map<string, { key: K; at: number[] }>()
    const now = this.ctx.clock.now()
    for (let i = 0; i < n; i++) {
      let key: K
      try {
        key = this.o.key(values[i])
      } catch (e) {
        found[i] = { error: e }
        continue
      }
      const k = keyText(key)
      keys[i] = k
      const hit = this.cache?.get(k, now)
      if (hit !== undefined) found[i] = hit
      else {
        const m = misses.get(k)
        if (m === undefined) misses.set(k, { key, at: [i] })
        else m.at.push(i)
      }
    }
    if (misses.size > 0) {
      await Promise.all(
        [...misses].map(async ([k, m]) => {
          // A key already looked up for an earlier batch shares that lookup.
          let p = this.looking.get(k)
          if (p === undefined) {
            p = this.lookupOne(m.key).then((r) => {
              this.looking.delete(k)
              if (!('error' in r)) this.cache?.set(k, r.result, this.ctx.clock.now())
              return r
            })
            this.looking.set(k, p)
          }
          const r = await p
          for (const i of m.at) found[i] = r
        }),
      )
    }
    if (this.o.ordered) await previous
    this.emit(batch, found, out)
  }

  private emit(batch: Batch<T>, found: ({ result: R } | { error: unknown })[], out: Output): void {
    const values: U[] = []
    const times: number[] = []
    const kinds: RowKind[] | undefined = batch.kinds === undefined ? undefined : []
    const pos: Position[] | undefined = batch.pos === undefined ? undefined : []
    for (let i = 0; i < batch.values.length; i++) {
      const f = found[i]
      let v: U
      try {
        if ('error' in f) throw f.error
        v = this.o.into(batch.values[i], f.result)
      } catch (e) {
        this.ctx.errors.report(this.ctx.stepId, e, batch.values[i], batch.times[i], batch.pos?.[i])
        continue
      }
      values.push(v)
      times.push(batch.times[i])
      kinds?.push(batch.kinds![i])
      pos?.push(batch.pos![i])
    }
    if (values.length === 0) return
    this.ctx.metrics.recordsOut += values.length
    out.emit({ values, times, ...(kinds === undefined ? {} : { kinds }), ...(pos === undefined ? {} : { pos }) })
  }

  /** One lookup with its timeout and retries, holding one of the subtask's `concurrency` slots. */
  private async lookupOne(key: K): Promise<{ result: R } | { error: unknown }> {
    await this.slot()
    try {
      let last: unknown
      for (let attempt = 0; attempt <= this.o.retries; attempt++) {
        if (attempt > 0) {
          this.ctx.metrics.retries++
          await new Promise((r) => setTimeout(r, Math.min(1000, 10 * 2 ** attempt)))
        }
        try {
          return { result: await this.attempt(key) }
        } catch (e) {
          last = e
        }
      }
      return {
        error: new SluiceError('SLUICE_LOOKUP_FAILED', `lookup failed after ${this.o.retries + 1} attempts: ${errorMessage(last)}`, { domain: 'external', retryable: true, step: this.ctx.stepId, cause: last }),
      }
    } finally {
      this.release()
    }
  }

  private attempt(key: K): Promise<R> {
    const ac = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort()
        reject(new Error(`no answer within ${this.o.timeoutMs} ms`))
      }, this.o.timeoutMs)
    })
    return Promise.race([this.fn(key, { signal: ac.signal }), timeout]).finally(() => clearTimeout(timer))
  }

  private slot(): Promise<void> | void {
    if (this.running < this.o.concurrency) {
      this.running++
      return
    }
    return new Promise<void>((r) => this.waiting.push(r)).then(() => void this.running++)
  }

  private release(): void {
    this.running--
    this.waiting.shift()?.()
    this.checkRoom()
  }

  /** Room for another batch: no lookup queued for a slot, and at most `concurrency` batches in flight. */
  private hasRoom(): boolean {
    return this.waiting.length === 0 && this.tasks.size <= this.o.concurrency
  }

  /** Settles the input's wait once there is room (or a lookup failed). */
  private checkRoom(): void {
    const r = this.room
    if (r === undefined) return
    if (this.failure !== undefined) r.reject(this.failure)
    else if (this.hasRoom()) r.resolve()
    else return
    this.room = undefined
  }

  waitForRoom(): Promise<void> | undefined {
    // Room while no lookup waits for a slot: the input then goes on feeding the step. Otherwise the input
    // waits until the last queued lookup has started (not until every batch in flight is done), so that the
    // next batch's lookups queue behind the ones still running and the slots never run dry between batches.
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.hasRoom()) return undefined
    this.room ??= Promise.withResolvers<void>()
    return this.room.promise
  }

  drain(): Promise<void> | undefined {
    if (this.tasks.size === 0) return this.failure === undefined ? undefined : Promise.reject(this.failure)
    return Promise.all(this.tasks.keys()).then(() => {
      if (this.failure !== undefined) throw this.failure
    })
  }

  onWatermark(watermark: number): number | void {
    let held = watermark
    for (const oldest of this.tasks.values()) if (oldest - 1 < held) held = oldest - 1
    return held
  }

  /** Cache hits and misses, for the run summary's view of the step. */
  cacheStats(): { hits: number; misses: number; size: number } | undefined {
    return this.cache === undefined ? undefined : { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size }
  }

  finish(): void {
    void Promise.resolve(this.fn.close?.()).catch(() => undefined)
  }
}
