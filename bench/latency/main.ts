/**
 * End-to-end latency at a sustained rate: `npm run bench -- latency [--rates 1000,10000,100000] [--seconds 30]
 * [--warmup 5] [--checkpoint-interval 10s] [--window 1s] [--bound 200ms] [--buffer-timeout 10ms]`.
 *
 * A paced source makes record k due at t0 + k / rate (as an outside producer would) and hands over every due
 * record when asked; each record carries its due time. The pipeline is stateless (parse, filter, project) or,
 * with the window variant, a keyed tumbling count. The sink notes, per record, the time it is written minus the
 * time it was due: that includes every wait in the engine (the source's turn, batches, timers, checkpoints
 * every 10 s) and nothing outside it. The window variant notes a result's write time minus its window's end:
 * what a window adds on top of its size. One JSON line per rate and variant: p50/p99/p999 in ms, the rate
 * held, and the sinks' own histogram (sluice_sink_latency_seconds) quantiles for comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline, start, watermark, window, type Sink, type Source, type SourceReader, type WindowResult } from '../../src/index.ts'
import { parseDuration } from '../../src/core/duration.ts'
import { quantileMs } from '../../src/core/latency-histogram.ts'

interface Tick {
  seq: number
  /** When the record was due: epoch ms, fractional. */
  due: number
  payload: string
}

const wall = (): number => performance.timeOrigin + performance.now()

/** Record k is due at t0 + k * 1000 / rate; a read returns every due record (up to max), or waits for the next. */
function paced(rate: number, opts: { eventTime: boolean; boundMs: number }): Source<Tick> {
  return {
    kind: 'paced',
    bounded: false,
    options: opts.eventTime ? { eventTime: (t) => Math.floor(t.due), watermark: watermark.boundedOutOfOrder(opts.boundMs) } : {},
    describe: () => ({ kind: 'paced', rate }),
    open(): SourceReader<Tick> {
      const t0 = wall()
      let next = 0
      return {
        partitions: 1,
        read(_p, max) {
          const now = wall()
          const due = Math.floor(((now - t0) * rate) / 1000)
          if (due <= next) return new Promise((resolve) => setTimeout(() => resolve(null), Math.max(1, t0 + ((next + 1) * 1000) / rate - now)))
          const n = Math.min(max, due - next)
          const values: Tick[] = new Array(n)
          for (let i = 0; i < n; i++, next++) values[i] = { seq: next, due: t0 + (next * 1000) / rate, payload: `{"auction":${next % 1000},"price":${next % 997}}` }
          return { values, times: [] }
        },
        positions: () => [next],
        seek: (at) => void (next = at[0] as number),
        close() {},
      }
    },
  }
}

/** A sink that notes, after the warm-up, one latency sample per record (or per window result). */
function latencySink<T>(sample: (v: T, now: number) => number, from: () => number, out: number[]): Sink<T> {
  return {
    kind: 'latency',
    guarantee: 'none',
    describe: () => ({ kind: 'latency' }),
    open: () => ({
      write(batch) {
        const now = wall()
        if (now < from()) return
        for (const v of batch.values) out.push(sample(v, now))
      },
      close() {},
    }),
  }
}

function pct(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10
}

async function measure(rate: number, variant: 'stateless' | 'window', o: { seconds: number; warmup: number; intervalMs: number; windowMs: number; boundMs: number; bufferTimeout: string }): Promise<Record<string, unknown>> {
  const samples: number[] = []
  let measureFrom = Infinity
  const p = pipeline(`latency-${variant}`, { bufferTimeout: o.bufferTimeout })
  const src = p.from(paced(rate, { eventTime: variant === 'window', boundMs: o.boundMs }))
  if (variant === 'stateless') {
    src
      .map((t) => ({ seq: t.seq, due: t.due, bid: JSON.parse(t.payload) as { auction: number; price: number } }))
      .filter((t) => t.bid.price >= 0)
      .map((t) => ({ due: t.due, auction: t.bid.auction, euros: t.bid.price * 0.908 }))
      .to(latencySink((v: { due: number }, now) => now - v.due, () => measureFrom, samples))
  } else {
    src
      .keyBy((t) => t.seq % 16)
      .window(window.tumbling({ size: o.windowMs }))
      .count()
      .to(latencySink((r: WindowResult<number, number>, now) => now - r.end, () => measureFrom, samples))
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-latency-'))
  const stop = new AbortController()
  const cpu0 = process.cpuUsage()
  const job = start(p, { signal: stop.signal, ...(o.intervalMs > 0 ? { checkpoint: { dir, intervalMs: o.intervalMs } } : {}) })
  measureFrom = wall() + o.warmup * 1000
  await new Promise((r) => setTimeout(r, (o.warmup + o.seconds) * 1000))
  const snapshot = job.metrics()
  stop.abort()
  await job.done.catch(() => undefined)
  const cpu = process.cpuUsage(cpu0)
  rmSync(dir, { recursive: true, force: true })
  const sorted = Float64Array.from(samples).sort()
  const sinkStep = snapshot.steps.find((t) => t.kind === 'sink-latency' || t.step.includes('latency'))
  const h = sinkStep?.latency
  const read = snapshot.steps.find((t) => t.kind.startsWith('source'))?.recordsIn ?? 0
  return {
    variant,
    rate,
    seconds: o.seconds,
    ...(variant === 'window' ? { windowMs: o.windowMs, boundMs: o.boundMs, measured: 'write time minus window end' } : { measured: 'write time minus due time' }),
    samples: sorted.length,
    heldRate: Math.round(read / (o.seconds + o.warmup)),
    p50Ms: pct(sorted, 0.5),
    p99Ms: pct(sorted, 0.99),
    p999Ms: pct(sorted, 0.999),
    maxMs: pct(sorted, 1),
    checkpoints: snapshot.checkpoints.completed,
    cpuPerEventUs: read > 0 ? Math.round(((cpu.user + cpu.system) / read) * 100) / 100 : null,
    ...(h !== undefined ? { sinkHistogram: { ingestP99Ms: quantileMs(h.ingest, 0.99), eventTimeP50Ms: quantileMs(h.eventTime, 0.5), eventTimeP99Ms: quantileMs(h.eventTime, 0.99) } } : {}),
  }
}

function flag(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback
}

export async function main(argv: string[]): Promise<void> {
  const rates = flag(argv, 'rates', '1000,10000,100000').split(',').map(Number)
  const variants = flag(argv, 'variants', 'stateless,window').split(',') as ('stateless' | 'window')[]
  const interval = flag(argv, 'checkpoint-interval', '10s')
  const o = {
    seconds: Number(flag(argv, 'seconds', '30')),
    warmup: Number(flag(argv, 'warmup', '5')),
    intervalMs: interval === '0' || interval === 'off' ? 0 : parseDuration(interval, '--checkpoint-interval'),
    windowMs: parseDuration(flag(argv, 'window', '1s'), '--window'),
    boundMs: parseDuration(flag(argv, 'bound', '200ms'), '--bound'),
    bufferTimeout: flag(argv, 'buffer-timeout', '10ms'),
  }
  for (const variant of variants) for (const rate of rates) console.log(JSON.stringify(await measure(rate, variant, o)))
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2))
