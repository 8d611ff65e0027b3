import { createHash } from 'node:crypto'
import { SluiceError } from '../core/errors.ts'

/** Format 2 adds `checksum`; format 1 (no checksum) is still read. */
export const MANIFEST_FORMAT = 2
const PREVIOUS_FORMAT = 1

/** A source's state in a checkpoint: reader positions and watermark state per partition. */
export interface SourceSnapshot {
  positions: unknown[]
  watermarks: unknown[]
  ended: boolean[]
  recordsIn: number
}


/** What a checkpoint or savepoint holds; written last, atomically: its presence makes the checkpoint complete. */
export interface Manifest {
  format: number
  /**
   * `sha256:<hex>` of the manifest's canonical content (every other field, keys sorted, no whitespace), set
   * when it is written: a flipped digit in a source position or a flipped byte in a key is caught on restore.
   */
  checksum?: string
  kind: 'checkpoint' | 'savepoint'
  id: number
  pipeline: string
  createdAt: string
  parallelism: number
  keyGroups: number
  sources: { step: string; kind: string; state: SourceSnapshot }[]
  operators: OperatorEntry[]
  /** Sink handles not yet committed when the checkpoint was taken (its own and any of failed checkpoints before it). */
  sinks: { step: string; subtask?: number; kind?: string; pending: { checkpointId: number; handle: unknown }[] }[]
  /** Runtime watermarks per vertex, so a restored job never moves event time backwards. */
  vertices: { id: string; subtask?: number; watermark: number; forwarded: number; inputs: number[] }[]
  metrics: { step: string; in: number; out: number; late: number; errors: number; dropped: number }[]
  /**
   * Records between subtasks that were held back for watermark alignment at the barrier, per subtask and input
   * of the step they go to, with each channel's watermark (`data`: v8-serialized `{ level, batch }[]`, base64).
   * They are delivered after a restore.
   */
  channels?: { to: string; subtask?: number; input: number; wms?: number[]; data: string }[]
}

/** One operator's state: which step, what state it declares, and its file(s) with sizes and checksums. */
export interface OperatorEntry {
  step: string
  kind: string
  keyed: boolean
  /** The step's configuration when the state was written; a restore compares it with the pipeline's. */
  descriptor: Record<string, unknown>
  /** The state files, in order: with incremental checkpoints, the base's files first, then each delta's. */
  files: StateFileRef[]
}

/** A state file of an operator, with its size and checksum. */
export interface StateFileRef {
  subtask: number
  file: string
  bytes: number
  sha256: string
  /** The checkpoint whose folder holds the file (a sibling `chk-…` folder), when not this one. */
  checkpoint?: number
  /** The file holds a delta (changes since the previous file's checkpoint), not a full snapshot. */
  delta?: boolean
}

/** Sizes and times of a taken checkpoint, for reporting. */
export interface CheckpointStats {
  id: number
  bytes: number
  /** Time to wait for reads in flight and snapshot every operator (processing stops for this long). */
  syncMs: number
  /** Time to write and fsync files and the manifest (processing goes on meanwhile). */
  asyncMs: number
  /** Time from the barrier until every input had delivered it (0 on one thread: inputs are aligned as the barrier passes). */
  alignmentMs: number
  /** An incremental checkpoint: some steps wrote only their changes since the previous one. */
  delta?: boolean
}

const infinities = (_k: string, v: unknown) => (v === Infinity ? '+Infinity' : v === -Infinity ? '-Infinity' : v)

/** JSON with object keys sorted at every level and no whitespace: the text a manifest's checksum covers. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

function checksumOf(plain: Record<string, unknown>): string {
  return 'sha256:' + createHash('sha256').update(canonical(plain)).digest('hex')
}

/** A manifest's text as written: its checksum first, infinite watermarks as strings. */
export function encodeManifest(m: Manifest): string {
  const { checksum: _old, ...rest } = m
  const plain = JSON.parse(JSON.stringify(rest, infinities)) as Record<string, unknown>
  return JSON.stringify({ format: plain.format, checksum: checksumOf(plain), ...plain }, null, 1)
}

/**
 * Parses and verifies a manifest read from `where`: a manifest that does not parse, whose checksum does not
 * match, or of format 2 without one is SLUICE_CHECKPOINT_CORRUPT; an unknown format is SLUICE_CHECKPOINT_UNREADABLE.
 */
export function decodeManifest(text: string, where: string): Manifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw corrupt(where, 'is not valid JSON')
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw corrupt(where, 'is not an object')
  const { checksum, ...rest } = raw as Record<string, unknown>
  const format = rest.format
  if (format !== MANIFEST_FORMAT && format !== PREVIOUS_FORMAT) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `the manifest in '${where}' has format ${String(format)}; this version reads formats ${PREVIOUS_FORMAT} and ${MANIFEST_FORMAT}`, {
      domain: 'user',
      hint: 'restore with the version of Sluice that wrote it',
    })
  }
  // A checksum present is always checked: a damaged format number must not turn verification off.
  if (checksum !== undefined || format !== PREVIOUS_FORMAT) {
    if (typeof checksum !== 'string') throw corrupt(where, 'has no checksum')
    if (checksum !== checksumOf(rest)) throw corrupt(where, 'does not match its checksum')
  }
  const m = revive(rest) as Manifest
  if (typeof checksum === 'string') m.checksum = checksum
  return m
}

function revive(v: unknown): unknown {
  if (v === '+Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  if (Array.isArray(v)) return v.map(revive)
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) o[k] = revive(o[k])
  }
  return v
}

function corrupt(where: string, what: string): SluiceError {
  return new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `the manifest in '${where}' ${what}`, { domain: 'external', hint: 'an older checkpoint is restored instead, if one reads back whole' })
}
