import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { parseArgs } from 'node:util'
import { open } from 'lmdb'
import type { StateBackend } from '../../src/core/state-backend.ts'
import { DurableStateBackend } from '../../src/state/durable/durable-backend.ts'
import { HeapStateBackend } from '../../src/state/heap/heap-backend.ts'
import type { KeyedSnapshot, OperatorContext } from '../../src/core/operator.ts'
import { redistributeKeyed } from '../../src/checkpoint/redistribute.ts'
import { RegularJoinOperator } from '../../src/operators/join/regular-join-operator.ts'
import { OperatorHarness } from '../../src/testing/operator-harness.ts'
import { systemClock } from '../../src/core/clock.ts'
import { encodeState } from '../../src/checkpoint/state-file.ts'
import { StepMetrics } from '../../src/core/metrics.ts'

/**
 * Keyed state benchmarks. `store` rows compare the candidate embedded stores on their own (puts and
 * gets per second, `--keys` keys of `--value-bytes` bytes, writes batched 10,000 to a transaction, reads
 * in a shuffled order); `backend` rows run a value state of each backend through its handle; `restore`
 * restores a regular join holding `--restore-rows` rows (16 a key) into the durable store, as a restarted job's
 * step does, and times it to the last row written; `join` runs a regular join of Nexmark q4's shape through
 * each backend (an auction every 16 records, bids on the 2,000 most recent; `--join-records` records), then
 * takes and encodes its full snapshot, in CPU time.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      keys: { type: 'string', default: '1000000' },
      'value-bytes': { type: 'string', default: '100' },
      'backend-keys': { type: 'string', default: '200000' },
      only: { type: 'string' },
      'restore-rows': { type: 'string', default: '500000' },
      'join-records': { type: 'string', default: '1000000' },
    },
  })
  const n = Number(values.keys)
  const size = Number(values['value-bytes'])
  const bn = Number(values['backend-keys'])
  const value = Buffer.alloc(size, 'v')
  const order = shuffled(n)
  const cases: [string, () => Record<string, number>][] = [
    ['store:lmdb', () => lmdb(n, value, order)],
    ['store:sqlite', () => sqlite(n, value, order)],
    ['backend:heap', () => backend(new HeapStateBackend(), bn, size)],
    ['backend:durable', () => backend(new DurableStateBackend(), bn, size)],
    ['backend:durable-hot', () => backend(new DurableStateBackend(), bn, size, 5000)],
    ['restore:join-durable', () => restoreJoin(Number(values['restore-rows']))],
    ['join:heap', () => joinRows('heap', Number(values['join-records']))],
    ['join:durable', () => joinRows('durable', Number(values['join-records']))],
  ]
  for (const [name, run] of cases) {
    if (values.only !== undefined && !name.includes(values.only)) continue
    console.log(JSON.stringify({ bench: name, valueBytes: size, ...run() }))
  }
}

function shuffled(n: number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  let s = 42
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const j = s % (i + 1)
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}

function rate(n: number, t0: number): number {
  return Math.round(n / ((performance.now() - t0) / 1000))
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sluice-bench-state-'))
}

function lmdb(n: number, value: Buffer, order: Uint32Array): Record<string, number> {
  const dir = tempDir()
  const db = open<Buffer, string>({ path: dir, encoding: 'binary', noSync: true, noMemInit: true, compression: false })
  try {
    let t0 = performance.now()
    for (let i = 0; i < n; i += 10_000) {
      db.transactionSync(() => {
        for (let j = i; j < Math.min(n, i + 10_000); j++) void db.put(`key-${j}`, value)
      })
    }
    const puts = rate(n, t0)
    t0 = performance.now()
    let bytes = 0
    for (let i = 0; i < n; i++) bytes += db.get(`key-${order[i]}`)!.length
    const gets = rate(n, t0)
    if (bytes !== n * value.length) throw new Error('lmdb: read back the wrong values')
    return { keys: n, putsPerSecond: puts, getsPerSecond: gets }
  } finally {
    void db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

function sqlite(n: number, value: Buffer, order: Uint32Array): Record<string, number> {
  const dir = tempDir()
  const db = new DatabaseSync(join(dir, 'state.db'))
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID')
    const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    const get = db.prepare('SELECT v FROM kv WHERE k = ?')
    let t0 = performance.now()
    for (let i = 0; i < n; i += 10_000) {
      db.exec('BEGIN')
      for (let j = i; j < Math.min(n, i + 10_000); j++) put.run(`key-${j}`, value)
      db.exec('COMMIT')
    }
    const puts = rate(n, t0)
    t0 = performance.now()
    let bytes = 0
    for (let i = 0; i < n; i++) bytes += (get.get(`key-${order[i]}`) as { v: Uint8Array }).v.length
    const gets = rate(n, t0)
    if (bytes !== n * value.length) throw new Error('sqlite: read back the wrong values')
    return { keys: n, putsPerSecond: puts, getsPerSecond: gets }
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Sets then reads a value state; with `hot`, every access goes to one of `hot` keys. */
function backend(b: StateBackend, n: number, size: number, hot?: number): Record<string, number> {
  const v = b.value<string>('v')
  const payload = 'v'.repeat(size)
  try {
    let t0 = performance.now()
    for (let i = 0; i < n; i++) v.set(`key-${hot === undefined ? i : i % hot}`, payload)
    const sets = rate(n, t0)
    t0 = performance.now()
    let chars = 0
    for (let i = 0; i < n; i++) chars += v.get(`key-${hot === undefined ? (i * 7919) % n : (i * 7919) % hot}`)!.length
    const gets = rate(n, t0)
    if (chars !== n * size) throw new Error(`${b.kind}: read back the wrong values`)
    t0 = performance.now()
    const snap = b.snapshot()
    const snapshotMs = Math.round(performance.now() - t0)
    void snap
    return { keys: hot ?? n, operations: n, setsPerSecond: sets, getsPerSecond: gets, snapshotMs, ...(b.stats().bytes === undefined ? {} : { storeBytes: b.stats().bytes! }) }
  } finally {
    b.close()
  }
}

/** A regular join's snapshot of `rows` rows, restored into a durable store: microseconds a row. */
function restoreJoin(rows: number): Record<string, number> {
  const build = (ctx: OperatorContext) => new RegularJoinOperator({ ttl: 1e12, type: 'inner', fn: (l: unknown, r: unknown) => [l, r] }, ctx)
  const heap = new OperatorHarness(build, { state: 'heap' })
  for (let i = 0; i < rows; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(rows, i + 1000); j++) batch.push({ value: { id: j, seller: j % 977, price: j * 3, name: `item-${j}` }, time: j, key: Math.floor(j / 16) })
    heap.push(batch, 0)
  }
  const restore = redistributeKeyed([heap.snapshot() as KeyedSnapshot], 1)[0]
  heap.close()
  // As the runtime restores a step: its operator on a fresh durable store, through the store's bulk load.
  const state = new DurableStateBackend()
  const ctx = joinContext(state)
  const op = build(ctx)
  const t0 = performance.now()
  state.bulkLoad(() => op.restore!(restore))
  // Rows still in the write-back cache are written too: the time is the restore's whole work.
  state.flush()
  const ms = performance.now() - t0
  state.close()
  return { rows, restoreMs: Math.round(ms), microsecondsPerRow: Math.round((ms * 1000) / rows * 100) / 100 }
}

/** Nexmark q4's join alone on `kind` state: CPU µs a record, then CPU ms of a full snapshot taken and encoded. */
function joinRows(kind: 'heap' | 'durable', records: number): Record<string, number> {
  const state = kind === 'durable' ? new DurableStateBackend() : new HeapStateBackend()
  const ctx = joinContext(state)
  const op = new RegularJoinOperator({ ttl: 1e12, type: 'inner', fn: (b, a) => ({ category: (a as { category: number }).category, final: (b as { price: number }).price }) }, ctx)
  let out = 0
  const sink = { emit: (b: { values: unknown[] }) => void (out += b.values.length), side: () => {} }
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
  try {
    const c0 = cpu()
    let auctions = 0
    for (let i = 0; i < records; i += 1000) {
      const bids: { values: unknown[]; times: number[]; keys: unknown[] } = { values: [], times: [], keys: [] }
      const news: { values: unknown[]; times: number[]; keys: unknown[] } = { values: [], times: [], keys: [] }
      for (let j = i; j < Math.min(records, i + 1000); j++) {
        if (j % 16 === 0) {
          const id = auctions++
          news.values.push({ id, category: id % 10, dateTime: j, expires: j + 20_000 })
          news.times.push(j)
          news.keys.push(id)
        } else {
          const auction = Math.max(0, auctions - 1 - ((j * 7919) % 2000))
          bids.values.push({ auction, price: (j * 31) % 10_000, dateTime: j })
          bids.times.push(j)
          bids.keys.push(auction)
        }
      }
      op.process(news, sink, 1)
      op.process(bids, sink, 0)
    }
    const c1 = cpu()
    const bytes = encodeState(op.snapshot!()).reduce((n, p) => n + p.byteLength, 0)
    const c2 = cpu()
    return { records, results: out, cpuMicrosecondsPerRecord: Math.round(((c1 - c0) * 1000) / records * 100) / 100, snapshotCpuMs: Math.round(c2 - c1), snapshotBytes: bytes }
  } finally {
    state.close()
  }
}

/** A join step's context on `state`, as the runtime gives it, for benchmarks that drive the operator alone. */
function joinContext(state: StateBackend): OperatorContext {
  return {
    pipeline: 'bench',
    stepId: 'join',
    subtask: 0,
    parallelism: 1,
    clock: systemClock,
    metrics: new StepMetrics('join', 'join'),
    errors: { report: (_s, e) => { throw e }, retry: (_s, e) => { throw e } },
    state,
    currentWatermark: () => -Infinity,
    scheduleProcessingTime: () => {},
  }
}
