import type { Context, Hono } from 'hono'
import { parseDuration } from '../core/duration.ts'
import { SluiceError } from '../core/errors.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import { allows, type Role } from './roles.ts'

/** Who sees dead letters and late samples with their personal fields: nobody (`masked`), or operators and admins (`operators`). */
export type RecordsShown = 'masked' | 'operators'

/** One setting changed by `PATCH /api/settings`, as the audit log records it. */
export interface SettingChange {
  setting: string
  from: unknown
  to: unknown
}

/** Where the server keeps its files, and where it listens once it does. */
export interface ServedAt {
  tokens: string
  audit: string
  savepoints: string
  redrive: string
  /** Host and port, once the server listens (undefined for an app not served over HTTP). */
  address?: () => { host: string; port: number } | undefined
}

/** The shortest interval under which periodic checkpoints would do little else. */
export const MIN_INTERVAL_MS = 100

/**
 * A checkpoint interval as given to `PATCH /api/settings`: a duration string ('30s', '5m', '1h30m'), at least
 * 100 ms, or '0' for checkpoints only at the end of input and on stop. Undefined when it is none of these.
 * @example intervalMs('30s') // 30000
 */
export function intervalMs(s: string): number | undefined {
  try {
    const ms = parseDuration(s, 'checkpointInterval')
    return Number.isSafeInteger(ms) && (ms === 0 || ms >= MIN_INTERVAL_MS) ? ms : undefined
  } catch {
    return undefined
  }
}

/** Milliseconds as the shortest duration string that says them exactly, e.g. 90000 → '90s'. */
export function durationText(ms: number): string {
  for (const [unit, n] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms > 0 && ms % n === 0) return `${ms / n}${unit}`
  return `${ms}ms`
}

/**
 * The server's settings that change while it runs. Record contents are masked for everyone by default;
 * `records: 'operators'` shows operators and admins dead letters and late samples as they are (viewers
 * always see personal fields masked).
 * @example
 * const s = new ServerSettings()
 * s.records = 'operators'
 * s.unmasked('viewer') // false
 */
export class ServerSettings {
  records: RecordsShown = 'masked'

  /** Whether a caller with `role` sees records unmasked. */
  unmasked(role: Role | null): boolean {
    return this.records === 'operators' && role !== null && allows(role, 'operator')
  }
}

export interface SettingsDeps {
  jobs: ReadonlyMap<string, JobHandle>
  settings: ServerSettings
  checkpointDirs: ReadonlyMap<string, string> | undefined
  served: ServedAt | undefined
  body<T>(c: Context, path: string): Promise<T | Response>
  fail(c: Context, status: 400, code: string, message: string): Response
}

interface Patch {
  records?: RecordsShown
  jobs?: Record<string, { checkpointInterval: string }>
}

/**
 * `GET /api/settings` (the server's effective settings) and `PATCH /api/settings` (those that take effect
 * while it runs). A patch is checked whole before any of it applies; its changes are left in the context's
 * `changes` for the audit log.
 */
export function settingsRoutes(app: Hono<any>, d: SettingsDeps): void {
  const interval = (h: JobHandle) => {
    const ms = h.checkpointInterval()
    return ms === undefined ? null : durationText(ms)
  }
  const mutable = () => ({ records: d.settings.records, jobs: Object.fromEntries([...d.jobs].flatMap(([name, h]) => (h.checkpointInterval() === undefined ? [] : [[name, { checkpointInterval: interval(h)! }]]))) })

  app.get('/api/settings', (c) => {
    const address = d.served?.address?.()
    return c.json({
      server: address ?? null,
      files: d.served === undefined ? null : { tokens: d.served.tokens, audit: d.served.audit, savepoints: d.served.savepoints, redrive: d.served.redrive },
      jobs: [...d.jobs].map(([name, h]) => ({ name, status: h.status().status, checkpointDir: d.checkpointDirs?.get(name) ?? null, checkpointInterval: interval(h) })),
      settings: mutable(),
    })
  })

  app.patch('/api/settings', async (c) => {
    const b = await d.body<Patch>(c, '/api/settings')
    if (b instanceof Response) return b
    const jobs = Object.entries(b.jobs ?? {})
    if (b.records === undefined && jobs.length === 0) return d.fail(c, 400, 'SLUICE_BAD_ARGUMENT', 'invalid request body: (body): give at least one setting: records, or jobs.<name>.checkpointInterval')
    const plan: { name: string; h: JobHandle; from: number; to: number }[] = []
    for (const [name, s] of jobs) {
      const h = d.jobs.get(name)
      if (h === undefined) return d.fail(c, 400, 'SLUICE_BAD_ARGUMENT', `invalid request body: jobs.${name}: no such job (served: ${[...d.jobs.keys()].join(', ')})`)
      const from = h.checkpointInterval()
      if (from === undefined) {
        const status = h.status().status
        throw status === 'running' || status === 'starting'
          ? new SluiceError('SLUICE_NO_CHECKPOINTS', `jobs.${name}.checkpointInterval: job '${name}' runs without checkpoints`, { hint: 'start it with a checkpoint folder' })
          : new SluiceError('SLUICE_JOB_NOT_RUNNING', `jobs.${name}.checkpointInterval: job '${name}' is ${status}`)
      }
      plan.push({ name, h, from, to: intervalMs(s.checkpointInterval)! })
    }
    const changes: SettingChange[] = []
    if (b.records !== undefined) {
      changes.push({ setting: 'records', from: d.settings.records, to: b.records })
      d.settings.records = b.records
    }
    for (const p of plan) {
      p.h.setCheckpointInterval(p.to)
      changes.push({ setting: `jobs.${p.name}.checkpointInterval`, from: durationText(p.from), to: durationText(p.to) })
    }
    c.set('changes', changes)
    return c.json({ changes, settings: mutable() })
  })
}
