import { END, type Source, type SourceOptions, type SourceReader } from '../../core/source.ts'
import { userError } from '../../core/errors.ts'
import { checkSeek } from '../resume.ts'
import { watermark } from '../../time/watermark.ts'
import type { NexmarkConfig } from './config.ts'
import { NexmarkGenerator } from './generator.ts'
import type { NexmarkEvent } from './model.ts'

/**
 * Options of `source.nexmark`: how many events, how fast, and the generator's shape (any field of
 * `NexmarkConfig`).
 * @example source.nexmark({ events: 1_000_000, partitions: 4 })
 */
export interface NexmarkSourceOptions extends Partial<NexmarkConfig>, Pick<SourceOptions<NexmarkEvent>, 'idleTimeout'> {
  /** Number of events; omit for an unbounded stream. */
  events?: number
  /** Number of the first event (default 0): a run can continue where another stopped. */
  firstEvent?: number
  /** Source partitions; event n is read by partition n % partitions. Default 1. */
  partitions?: number
  /** Paces the stream to this many events per wall-clock second (across partitions); default: as fast as possible. */
  maxEventsPerSecond?: number
  /** Watermark delay behind the highest event time; default 4 s, as in the Nexmark Flink setup. */
  watermarkDelay?: number | string
}

/**
 * The Nexmark auction events (persons, auctions, bids) as a source, in event time (`dateTime`) with a
 * watermark 4 s behind. Deterministic: the same options give the same events, whatever the partitioning.
 * Resumable: a partition's position is the number of its next event; pacing restarts from the resume time.
 * @example pipeline('q2').from(source.nexmark({ events: 1_000_000 })).filter(e => e.type === 'bid')
 */
export function nexmark(options: NexmarkSourceOptions = {}): Source<NexmarkEvent> {
  const { events, firstEvent = 0, partitions = 1, maxEventsPerSecond, watermarkDelay = '4s', idleTimeout, ...config } = options
  if (events !== undefined && (!Number.isInteger(events) || events < 0)) throw userError('SLUICE_BAD_OPTION', `source.nexmark: events must be a non-negative integer, got ${events}`)
  if (!Number.isInteger(firstEvent) || firstEvent < 0) throw userError('SLUICE_BAD_OPTION', `source.nexmark: firstEvent must be a non-negative integer, got ${firstEvent}`)
  if (!Number.isInteger(partitions) || partitions < 1) throw userError('SLUICE_BAD_OPTION', `source.nexmark: partitions must be a positive integer, got ${partitions}`)
  if (maxEventsPerSecond !== undefined && !(maxEventsPerSecond > 0)) throw userError('SLUICE_BAD_OPTION', `source.nexmark: maxEventsPerSecond must be positive, got ${maxEventsPerSecond}`)
  const probe = new NexmarkGenerator(config)
  const end = events === undefined ? Infinity : firstEvent + events
  return {
    kind: 'nexmark',
    bounded: events !== undefined,
    options: { eventTime: (e) => e.dateTime, watermark: watermark.boundedOutOfOrder(watermarkDelay), ...(idleTimeout !== undefined ? { idleTimeout } : {}) },
    describe: () => ({ kind: 'nexmark', events: events ?? null, firstEvent, partitions, maxEventsPerSecond: maxEventsPerSecond ?? null, ...probe.config }),
    open(): SourceReader<NexmarkEvent> {
      const gen = new NexmarkGenerator(config)
      const next = Array.from({ length: partitions }, (_, p) => firstEvent + p)
      const started = performance.now()
      let emitted = 0
      return {
        partitions,
        read(p, max) {
          const from = next[p]
          if (from >= end) return END
          let n = Math.min(max, Math.ceil((end - from) / partitions))
          if (maxEventsPerSecond !== undefined) {
            const allowed = Math.floor(((performance.now() - started) / 1000) * maxEventsPerSecond) - emitted
            if (allowed <= 0) {
              const waitMs = ((emitted + 1) / maxEventsPerSecond) * 1000 - (performance.now() - started)
              return new Promise((resolve) => setTimeout(() => resolve(null), Math.min(Math.max(1, waitMs), 100)))
            }
            n = Math.min(n, allowed)
          }
          const values: NexmarkEvent[] = []
          gen.fill(values, from, partitions, n)
          next[p] = from + n * partitions
          emitted += n
          return { values, times: [] }
        },
        positions: () => [...next],
        seek(positions) {
          checkSeek('nexmark', positions, partitions).forEach((at, p) => {
            if (at < firstEvent || (at - firstEvent) % partitions !== p) throw userError('SLUICE_BAD_POSITION', `source.nexmark: event ${at} does not belong to partition ${p} of ${partitions} (first event ${firstEvent})`)
            next[p] = at
          })
        },
        close() {},
      }
    },
  }
}
