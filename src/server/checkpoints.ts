import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeManifest, type Manifest } from '../checkpoint/manifest.ts'
import { checkpointFolder } from '../checkpoint/storage.ts'
import { errorMessage } from '../core/errors.ts'
import type { JobHandle } from '../runtime/job/types.ts'

/** A checkpoint or savepoint as the server saw it complete or fail: its id, when, and its figures (sizes, times). */
export type CheckpointEntry = Record<string, unknown> & { id: number; at: number; ok: boolean; savepoint?: string }

/** What a checkpoint's manifest holds, summed up: state bytes per step, source partitions, sink commits pending. */
export interface ManifestSummary {
  kind: 'checkpoint' | 'savepoint'
  createdAt: string
  parallelism: number
  keyGroups: number
  folder: string
  steps: { step: string; kind: string; keyed: boolean; bytes: number; files: number; delta: boolean }[]
  sources: { step: string; kind: string; partitions: number; ended: number; recordsIn: number }[]
  sinks: { step: string; subtask?: number; pending: number }[]
}

/** Checkpoint events of each job since the server started, newest last (at most 100 per job). */
export function checkpointHistory(jobs: ReadonlyMap<string, JobHandle>): Map<string, CheckpointEntry[]> {
  const out = new Map<string, CheckpointEntry[]>()
  for (const [name, h] of jobs) {
    const list: CheckpointEntry[] = []
    out.set(name, list)
    h.on((e) => {
      if (e.type === 'checkpoint-completed') list.push({ at: Date.now(), ok: true, ...e.stats, ...(e.savepoint !== undefined ? { savepoint: e.savepoint } : {}) })
      else if (e.type === 'checkpoint-failed') list.push({ at: Date.now(), ok: false, id: e.id, error: e.error })
      else return
      if (list.length > 100) list.shift()
    })
  }
  return out
}

/**
 * One checkpoint's details: its entry in the history and, while its folder is kept (retention removes old
 * checkpoints), the summary of its manifest; `manifest` is null with `why` when it cannot be read. A savepoint
 * is read from its own folder, a checkpoint from `checkpointDir` (the job's, when the server knows it).
 * @example const d = await checkpointDetail(history.at(-1)!, 'state/clicks'); d.manifest?.steps
 */
export async function checkpointDetail(entry: CheckpointEntry, checkpointDir: string | undefined): Promise<CheckpointEntry & { manifest: ManifestSummary | null; why?: string }> {
  if (entry.ok !== true) return { ...entry, manifest: null, why: 'the checkpoint failed: nothing was kept' }
  const folder = entry.savepoint ?? (checkpointDir !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(checkpointDir) ? checkpointFolder(checkpointDir, entry.id) : undefined)
  if (folder === undefined) return { ...entry, manifest: null, why: checkpointDir === undefined ? "the server does not know the job's checkpoint folder" : 'the checkpoint is in a bucket: read it with sluice state' }
  let text: string
  try {
    text = await readFile(join(folder, 'manifest.json'), 'utf8')
  } catch (e) {
    const gone = (e as NodeJS.ErrnoException).code === 'ENOENT'
    return { ...entry, manifest: null, why: gone ? 'no longer kept (retention removed it)' : `its manifest cannot be read: ${errorMessage(e)}` }
  }
  let m: Manifest
  try {
    m = decodeManifest(text, folder)
  } catch (e) {
    return { ...entry, manifest: null, why: errorMessage(e) }
  }
  return { ...entry, manifest: summarize(m, folder) }
}

function summarize(m: Manifest, folder: string): ManifestSummary {
  return {
    kind: m.kind,
    createdAt: m.createdAt,
    parallelism: m.parallelism,
    keyGroups: m.keyGroups,
    folder,
    steps: m.operators.map((op) => ({ step: op.step, kind: op.kind, keyed: op.keyed, bytes: op.files.reduce((a, f) => a + f.bytes, 0), files: op.files.length, delta: op.files.some((f) => f.delta === true) })),
    sources: m.sources.map((s) => ({ step: s.step, kind: s.kind, partitions: s.state.positions.length, ended: s.state.ended.filter(Boolean).length, recordsIn: s.state.recordsIn })),
    sinks: m.sinks.map((s) => ({ step: s.step, ...(s.subtask !== undefined ? { subtask: s.subtask } : {}), pending: s.pending.length })),
  }
}
