import { userError } from '../core/errors.ts'

/**
 * A partition's time range, epoch ms, end exclusive (absent for static partitions).
 * @example const { start, end } = daily('2026-01-01').bounds('2026-01-02') // epoch ms of 2026-01-02 and 2026-01-03, UTC
 */
export interface PartitionBounds {
  start?: number
  end?: number
}

/**
 * The partitions of a workflow: every task runs once per partition key. Time partitions are complete (and so
 * runnable) once their end has passed; static ones always are.
 * @example hourly('2026-01-01').range('2026-01-01T22', '2026-01-02T01') // ['2026-01-01T22', '2026-01-01T23', '2026-01-02T00', '2026-01-02T01']
 */
export interface PartitionSet {
  readonly kind: 'hourly' | 'daily' | 'monthly' | 'static'
  /** Every complete partition key at `now`, oldest first. */
  keysUntil(now: number): string[]
  /** The keys from `from` to `to`, both included, oldest first (a backfill range). */
  range(from: string, to: string): string[]
  bounds(key: string): PartitionBounds
  has(key: string): boolean
}

type Unit = 'hourly' | 'daily' | 'monthly'

const KEY_LENGTH: Record<Unit, number> = { hourly: 13, daily: 10, monthly: 7 }

function floorTo(unit: Unit, t: number): number {
  const d = new Date(t)
  if (unit === 'hourly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours())
  if (unit === 'daily') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

function nextOf(unit: Unit, t: number): number {
  if (unit === 'hourly') return t + 3_600_000
  if (unit === 'daily') return t + 86_400_000
  const d = new Date(t)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

function keyOf(unit: Unit, t: number): string {
  return new Date(t).toISOString().slice(0, KEY_LENGTH[unit])
}

function parseKey(unit: Unit, key: string): number | undefined {
  const iso = unit === 'hourly' ? `${key}:00:00Z` : unit === 'daily' ? `${key}T00:00:00Z` : `${key}-01T00:00:00Z`
  const t = Date.parse(iso)
  return key.length === KEY_LENGTH[unit] && Number.isFinite(t) && keyOf(unit, t) === key ? t : undefined
}

function timePartitions(unit: Unit, start: string | Date): PartitionSet {
  const s = floorTo(unit, typeof start === 'string' ? Date.parse(start) : start.getTime())
  if (!Number.isFinite(s)) throw userError('SLUICE_WORKFLOW_INVALID', `${unit} partitions need a valid start date, got '${String(start)}'`)
  const at = (key: string): number => {
    const t = parseKey(unit, key)
    if (t === undefined || t < s) {
      throw userError('SLUICE_WORKFLOW_PARTITION', `'${key}' is not a ${unit} partition of this workflow`, { hint: `keys look like '${keyOf(unit, s)}' and start there` })
    }
    return t
  }
  const between = (from: number, toExclusive: number): string[] => {
    const keys: string[] = []
    for (let t = from; t < toExclusive; t = nextOf(unit, t)) keys.push(keyOf(unit, t))
    return keys
  }
  return {
    kind: unit,
    keysUntil: (now) => between(s, floorTo(unit, now)),
    range: (from, to) => between(at(from), nextOf(unit, at(to))),
    bounds: (key) => {
      const t = at(key)
      return { start: t, end: nextOf(unit, t) }
    },
    has: (key) => {
      const t = parseKey(unit, key)
      return t !== undefined && t >= s
    },
  }
}

/**
 * One partition per UTC hour from `start`; keys look like `2026-01-05T13`.
 * @example workflow('clicks', { partitions: hourly('2026-01-01') })
 */
export function hourly(start: string | Date): PartitionSet {
  return timePartitions('hourly', start)
}

/**
 * One partition per UTC day from `start`; keys look like `2026-01-05`.
 * @example workflow('report', { partitions: daily('2026-01-01') })
 */
export function daily(start: string | Date): PartitionSet {
  return timePartitions('daily', start)
}

/**
 * One partition per UTC month from `start`; keys look like `2026-01`.
 * @example workflow('invoices', { partitions: monthly('2025-01') })
 */
export function monthly(start: string | Date): PartitionSet {
  return timePartitions('monthly', start)
}

/**
 * A fixed list of partitions (regions, customers...), always runnable.
 * @example workflow('regions', { partitions: staticPartitions(['eu', 'us']) })
 */
export function staticPartitions(keys: readonly string[]): PartitionSet {
  if (new Set(keys).size !== keys.length) throw userError('SLUICE_WORKFLOW_INVALID', 'static partition keys must be unique')
  const list = [...keys]
  const index = (key: string): number => {
    const i = list.indexOf(key)
    if (i < 0) throw userError('SLUICE_WORKFLOW_PARTITION', `'${key}' is not a partition of this workflow`, { hint: `one of: ${list.join(', ')}` })
    return i
  }
  return {
    kind: 'static',
    keysUntil: () => [...list],
    range: (from, to) => list.slice(index(from), index(to) + 1),
    bounds: (key) => (index(key), {}),
    has: (key) => list.includes(key),
  }
}
