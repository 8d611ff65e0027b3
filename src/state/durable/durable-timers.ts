import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import type { Key, RootDatabase } from 'lmdb'
import { SluiceError } from '../../core/errors.ts'
import type { TimerService } from '../../core/state-backend.ts'
import { decodeId, encodeId, type StoreId } from './store-keys.ts'
import { clearStore, openStore } from './lmdb-store.ts'

type TimerKey = [time: number, id: StoreId]

/** Writes wait in memory up to this many, then go to the store in one transaction. */
const WRITE_BATCH = 10_000
const SAME_AS_ID = Buffer.alloc(0)

/**
 * Timers in an embedded LMDB store, ordered by `[time, key identity]`: a timer costs no heap, and the
 * earliest time is the store's first key. Writes are batched; any read writes them first. Keys of one time
 * fire in the order of their identities (the heap queue fires them in registration order).
 */
export class DurableTimerQueue implements TimerService {
  private readonly db: RootDatabase<Buffer, Key>
  private readonly path: string
  private readonly owned: boolean
  /**
   * Pending writes in the order they were made: the value to put, or undefined to remove (written in this
   * order, a timer registered and deleted again ends as the last write left it).
   */
  private pending: [TimerKey, Buffer | undefined][] = []
  private closed = false

  /** `file`: the store's file (it starts empty); default a new temporary folder, removed on close. */
  constructor(file?: string) {
    this.owned = file === undefined
    this.path = file ?? mkdtempSync(join(tmpdir(), 'sluice-timers-'))
    try {
      this.db = openStore(this.path)
      clearStore(this.db)
    } catch (e) {
      throw storeError(e)
    }
  }

  register(time: number, keyId: unknown, key: unknown = keyId): void {
    this.pending.push([[time, encodeId(keyId)], key === keyId ? SAME_AS_ID : serialize(key)])
    if (this.pending.length >= WRITE_BATCH) this.flush()
  }

  delete(time: number, keyId: unknown): void {
    this.pending.push([[time, encodeId(keyId)], undefined])
    if (this.pending.length >= WRITE_BATCH) this.flush()
  }

  peek(): number {
    return this.first() ?? Infinity
  }

  /** The earliest time, or undefined when there are no timers. */
  private first(): number | undefined {
    this.flush()
    for (const k of this.db.getKeys({ limit: 1 })) return (k as TimerKey)[0]
    return undefined
  }

  pollUpTo(upTo: number): { time: number; keys: Map<unknown, unknown> } | undefined {
    const time = this.first()
    if (time === undefined || time > upTo) return undefined
    const keys = new Map<unknown, unknown>()
    const gone: TimerKey[] = []
    for (const { key, value } of this.db.getRange({ start: [time] })) {
      const k = key as TimerKey
      if (k[0] !== time) break
      gone.push(k)
      const id = decodeId(k[1])
      keys.set(id, value.byteLength === 0 ? id : deserialize(value))
    }
    this.write(gone.map((k) => [k, undefined]))
    return { time, keys }
  }

  snapshot(): [number, [unknown, unknown][]][] {
    this.flush()
    const out: [number, [unknown, unknown][]][] = []
    let last: [number, [unknown, unknown][]] | undefined
    for (const { key, value } of this.db.getRange({})) {
      const [time, sid] = key as TimerKey
      if (last === undefined || last[0] !== time) out.push((last = [time, []]))
      const id = decodeId(sid)
      last[1].push([id, value.byteLength === 0 ? id : deserialize(value)])
    }
    return out
  }

  restore(entries: [number, [unknown, unknown][]][]): void {
    this.pending = []
    try {
      clearStore(this.db)
    } catch (e) {
      throw storeError(e)
    }
    for (const [t, keys] of entries) for (const [id, k] of keys) this.register(t, id, k)
    this.flush()
  }

  /** Writes the pending registrations and removals. */
  flush(): void {
    if (this.pending.length === 0) return
    const writes = this.pending
    this.pending = []
    this.write(writes)
  }

  private write(writes: [TimerKey, Buffer | undefined][]): void {
    if (writes.length === 0) return
    try {
      this.db.transactionSync(() => {
        for (const [k, v] of writes) {
          if (v === undefined) void this.db.remove(k)
          else void this.db.put(k, v)
        }
      })
    } catch (e) {
      throw storeError(e)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.pending = []
    void this.db.close()
    if (this.owned) rmSync(this.path, { recursive: true, force: true })
  }
}

function storeError(e: unknown): SluiceError {
  return new SluiceError('SLUICE_STATE_STORE', 'state: the durable timer store failed', { domain: 'external', cause: e, hint: 'check that the temporary folder is writable and has space' })
}
