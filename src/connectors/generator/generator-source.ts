import { END, type Source, type SourceOptions, type SourceReader } from '../../core/source.ts'
import { userError } from '../../core/errors.ts'
import { checkSeek } from '../resume.ts'

/** Deterministic randomness for one record: the same (seed, seq) always gives the same numbers. */
export interface GenContext {
  /** The record's sequence number, from 0. */
  readonly seq: number
  /** Uniform in [0, 1). */
  random(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
}

export interface GeneratorOptions<T> extends SourceOptions<T> {
  /** Builds record `seq`. Must depend only on `seq` and `ctx` to be deterministic. */
  make: (ctx: GenContext) => T
  /** Number of records; omit for an unbounded generator. */
  count?: number
  /** Records per second across all partitions; omit for as fast as possible. */
  ratePerSecond?: number
  seed?: number
  partitions?: number
}

class SplitMix implements GenContext {
  seq = 0
  private s = 0
  seed(seed: number, seq: number): void {
    this.seq = seq
    this.s = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seq, 0xc2b2ae35) ^ Math.floor(seq / 0x100000000)) | 0
  }
  random(): number {
    let z = (this.s = (this.s + 0x9e3779b9) | 0)
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    z ^= z >>> 16
    return (z >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.random() * n)
  }
}

/**
 * Generates records from a function of their sequence number: deterministic by seed, split across
 * partitions (record seq goes to partition seq % partitions), optionally rate-limited and unbounded.
 * Resumable: a partition's position is its next sequence number. A resumed generator paces itself from
 * the time it resumed (it does not burst to catch up on the time it was stopped).
 * @example source.generator({ count: 1e6, make: g => ({ user: g.int(1000), ts: g.seq }), eventTime: r => r.ts })
 */
export function generator<T>(options: GeneratorOptions<T>): Source<T> {
  const { make, count, ratePerSecond } = options
  if (typeof make !== 'function') throw userError('SLUICE_BAD_ARGUMENT', 'source.generator needs make: (ctx) => record')
  if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw userError('SLUICE_BAD_OPTION', `source.generator: count must be a non-negative integer, got ${count}`)
  if (ratePerSecond !== undefined && !(ratePerSecond > 0)) throw userError('SLUICE_BAD_OPTION', `source.generator: ratePerSecond must be positive, got ${ratePerSecond}`)
  const partitions = options.partitions ?? 1
  if (!Number.isInteger(partitions) || partitions < 1) throw userError('SLUICE_BAD_OPTION', `source.generator: partitions must be a positive integer, got ${partitions}`)
  const seed = options.seed ?? 1
  return {
    kind: 'generator',
    bounded: count !== undefined,
    options,
    describe: () => ({ kind: 'generator', count: count ?? null, ratePerSecond: ratePerSecond ?? null, seed, partitions }),
    open(ctx): SourceReader<T> {
      const chunkMs = ctx?.bufferTimeoutMs ?? 100
      const next = Array.from({ length: partitions }, (_, p) => p)
      const rng = new SplitMix()
      const started = performance.now()
      let emitted = 0
      const limit = count ?? Infinity
      return {
        partitions,
        read(p, max) {
          if (next[p] >= limit) return END
          let n = max
          if (ratePerSecond !== undefined) {
            // Batches of a fixed size (at most the buffer timeout's worth, a tenth of a second's without one),
            // released once the rate allows a whole one: batch boundaries, and so watermarks, do not depend on
            // timing, and a run restored from a checkpoint cuts its batches exactly where an uninterrupted run does.
            const chunk = Math.max(1, Math.min(max, Math.ceil((ratePerSecond * chunkMs) / 1000)))
            const remaining = Math.ceil((limit - next[p]) / partitions)
            n = Math.min(chunk, remaining)
            const due = ((emitted + n) / ratePerSecond) * 1000 - (performance.now() - started)
            if (due > 0) return new Promise((resolve) => setTimeout(() => resolve(null), Math.min(Math.ceil(due), 100)))
          }
          const values: T[] = new Array(0)
          let seq = next[p]
          for (; seq < limit && values.length < n; seq += partitions) {
            rng.seed(seed, seq)
            values.push(make(rng))
          }
          next[p] = seq
          emitted += values.length
          return { values, times: [] }
        },
        positions: () => [...next],
        seek(positions) {
          checkSeek('generator', positions, partitions).forEach((at, p) => {
            if (at % partitions !== p % partitions) throw userError('SLUICE_BAD_POSITION', `source.generator: sequence number ${at} does not belong to partition ${p} of ${partitions}`)
            next[p] = at
          })
        },
        close() {},
      }
    },
  }
}
