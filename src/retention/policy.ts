import { parseDuration, type Duration } from '../core/duration.ts'
import { userError } from '../core/errors.ts'
import type { TopicsRetention } from './topics.ts'

/**
 * How long each artifact Sluice writes is kept. Every entry is optional; an artifact without one is kept.
 * Embedded log topics (dead letters included) also keep their own per-topic `retentionMs` / `retentionBytes`,
 * which an open log enforces by itself every 5 minutes; `topics` applies them (or other limits) to logs no
 * job has open.
 * @example { checkpoints: [{ dir: 'state/orders', keep: 3 }], savepoints: [{ dir: 'savepoints', maxAge: '30d' }], logs: [{ path: 'lineage/events.ndjson', maxAge: '90d' }] }
 */
export interface RetentionPolicy {
  /** Checkpoint folders: keep the newest `keep` checkpoints (and those they build on). */
  checkpoints?: { dir: string; keep: number }[]
  /** Folders holding savepoints (one sub-folder each): remove those older than `maxAge`. */
  savepoints?: { dir: string; maxAge: Duration }[]
  /** Folders of staging files (`*.tmp`, `.part-*`, `chk-*.tmp`) left by crashed writers: remove those older than `maxAge`. */
  staging?: { dir: string; maxAge: Duration }[]
  /** NDJSON logs Sluice appends to (lineage events, audit): drop lines whose time is older than `maxAge`. */
  logs?: { path: string; maxAge: Duration }[]
  /**
   * Embedded log folders (dead-letter logs too): every topic, or `topic`, loses its whole old segments past
   * `maxAge` / `maxBytes` per partition, or past the topic's own retention when neither is given.
   */
  topics?: { dir: string; topic?: string; maxAge?: Duration; maxBytes?: number }[]
}

/** A policy with durations in ms. */
export interface ResolvedPolicy {
  checkpoints: { dir: string; keep: number }[]
  savepoints: { dir: string; maxAgeMs: number }[]
  staging: { dir: string; maxAgeMs: number }[]
  logs: { path: string; maxAgeMs: number }[]
  topics: TopicsRetention[]
}

/** Checks a policy (from a file or code) and parses its durations. */
export function resolvePolicy(p: RetentionPolicy): ResolvedPolicy {
  if (p === null || typeof p !== 'object') throw userError('SLUICE_BAD_OPTION', 'a retention policy must be an object', { hint: "e.g. { \"checkpoints\": [{ \"dir\": \"state\", \"keep\": 3 }] }" })
  const list = <T>(v: T[] | undefined, what: string): T[] => {
    if (v === undefined) return []
    if (!Array.isArray(v)) throw userError('SLUICE_BAD_OPTION', `retention policy: '${what}' must be a list`)
    return v
  }
  const text = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || v === '') throw userError('SLUICE_BAD_OPTION', `retention policy: ${where} needs a path`)
    return v
  }
  return {
    checkpoints: list(p.checkpoints, 'checkpoints').map((c, i) => {
      if (!Number.isInteger(c.keep) || c.keep < 1) throw userError('SLUICE_BAD_OPTION', `retention policy: checkpoints[${i}].keep must be a positive integer`)
      return { dir: text(c.dir, `checkpoints[${i}]`), keep: c.keep }
    }),
    savepoints: list(p.savepoints, 'savepoints').map((s, i) => ({ dir: text(s.dir, `savepoints[${i}]`), maxAgeMs: parseDuration(s.maxAge, `retention policy savepoints[${i}].maxAge`) })),
    staging: list(p.staging, 'staging').map((s, i) => ({ dir: text(s.dir, `staging[${i}]`), maxAgeMs: parseDuration(s.maxAge, `retention policy staging[${i}].maxAge`) })),
    logs: list(p.logs, 'logs').map((l, i) => ({ path: text(l.path, `logs[${i}]`), maxAgeMs: parseDuration(l.maxAge, `retention policy logs[${i}].maxAge`) })),
    topics: list(p.topics, 'topics').map((t, i) => {
      if (t.maxBytes !== undefined && (!Number.isInteger(t.maxBytes) || t.maxBytes < 1)) throw userError('SLUICE_BAD_OPTION', `retention policy: topics[${i}].maxBytes must be a positive integer`)
      if (t.topic !== undefined && (typeof t.topic !== 'string' || t.topic === '')) throw userError('SLUICE_BAD_OPTION', `retention policy: topics[${i}].topic must be a topic name`)
      return {
        dir: text(t.dir, `topics[${i}]`),
        ...(t.topic !== undefined ? { topic: t.topic } : {}),
        maxAgeMs: t.maxAge !== undefined ? parseDuration(t.maxAge, `retention policy topics[${i}].maxAge`) : null,
        maxBytes: t.maxBytes ?? null,
      }
    }),
  }
}
