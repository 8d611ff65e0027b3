import { deserialize, serialize } from 'node:v8'
import { SluiceError, errorMessage } from '../core/errors.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import { ByteReader, ByteWriter } from './bytes.ts'
import { readValue, shred, writeNode } from './columnar.ts'
import { isEmptyObject, isKeyedSnapshot } from './redistribute.ts'

/** A state file holds key groups up to about this size; more state makes more files (files stay far below 2 GiB). */
const PART_BYTES = 256 * 1024 * 1024

/** The layout of state data in a file: `columnar` is columnar.ts's. */
const CODEC = 'columnar'

/** The last bytes of a state file; before them the header's length (u32, little-endian), before that the header. */
const MAGIC = Buffer.from('SLUICEC1')
const TRAILER = 4 + MAGIC.byteLength

/** A state file's header: its key groups as `[keyGroup, offset, length]`, or one `plain` value at offset 0. */
interface Header {
  codec: string
  plain?: number
  keyGroups?: number
  shared?: unknown
  groups?: [number, number, number][]
}

export interface EncodeOptions {
  /** Parts are cut after the key group that takes them past this size. */
  partBytes?: number
  /**
   * Where to write (appended at its position). A checkpoint passes one writer for all its steps and reuses it
   * for the next checkpoint once this one is written: the parts returned are views of its buffer.
   */
  writer?: ByteWriter
  /**
   * Parts written as they are made, through a writer that drains (see `ByteWriter.drainTo`): `open` before
   * the first byte of each part, `close` after its last has been drained. Nothing is returned then.
   */
  stream?: { open(part: number): void; close(): void }
}

/**
 * How an operator's snapshot is stored in state files: in columns (columnar.ts). A keyed snapshot is written
 * one key group at a time (a restore can decode only the groups it owns) and cut into parts of about 256 MiB:
 * each part its groups' bytes, then a header saying where each group is, then the trailer.
 */
export function encodeState(state: unknown, options: EncodeOptions = {}): Uint8Array[] {
  const w = options.writer ?? new ByteWriter()
  const partBytes = options.partBytes ?? PART_BYTES
  const stream = options.stream
  const parts: Uint8Array[] = []
  let start = w.offset
  stream?.open(0)
  const finish = (header: Header) => {
    const head = serialize(header)
    w.bytes(head)
    w.u32(head.byteLength)
    w.bytes(MAGIC)
    if (stream === undefined) parts.push(w.buffer.subarray(start, w.offset))
    else {
      w.flush()
      stream.close()
    }
    start = w.offset
  }
  if (!isKeyedSnapshot(state)) {
    writeNode(shred(state), w)
    finish({ codec: CODEC, plain: w.offset - start })
    return parts
  }
  let index: [number, number, number][] = []
  let written = 0
  const header = (): Header => {
    const h: Header = { codec: CODEC, keyGroups: state.keyGroups, groups: index }
    if (state.shared !== undefined) h.shared = state.shared
    return h
  }
  // One group read at a time: a snapshot may make its groups as they are read (lazyGroups), so that only
  // one is in memory; groups without data are left out.
  for (const g in state.groups) {
    const data = state.groups[g as unknown as number]
    if (data === undefined || (typeof data === 'object' && data !== null && isEmptyObject(data))) continue
    if (index.length === 0 && written > 0) stream?.open(written)
    const at = w.offset
    writeNode(shred(data), w)
    index.push([Number(g), at - start, w.offset - at])
    if (w.offset - start >= partBytes) {
      finish(header())
      index = []
      written++
    }
  }
  if (index.length > 0 || written === 0) finish(header())
  return parts
}

/** Decodes a state file; for a keyed snapshot, only the groups `owned` accepts (all by default). */
export function decodeState(data: Uint8Array, owned: (keyGroup: number) => boolean = () => true): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (buf.byteLength >= TRAILER && buf.subarray(buf.byteLength - MAGIC.byteLength).equals(MAGIC)) return decodeColumnar(buf, owned)
  // Files written before the columnar layout: a v8-serialized box.
  const box = deserialize(buf) as { plain?: unknown; keyed?: { keyGroups: number; shared?: unknown; groups: Record<number, Uint8Array> } }
  if (box.keyed === undefined) return box.plain
  const groups: Record<number, unknown> = {}
  for (const [g, bytes] of Object.entries(box.keyed.groups)) if (owned(Number(g))) groups[Number(g)] = deserialize(bytes)
  return withShared({ keyGroups: box.keyed.keyGroups, groups }, box.keyed.shared)
}

function decodeColumnar(buf: Buffer, owned: (keyGroup: number) => boolean): unknown {
  const { header, headAt } = readHeader(buf)
  if (header.plain !== undefined) return readPart(buf, 0, header.plain, headAt, 'the step')
  const groups: Record<number, unknown> = {}
  for (const [g, offset, length] of header.groups ?? []) if (owned(g)) groups[g] = readPart(buf, offset, length, headAt, `key group ${g}`)
  return withShared({ keyGroups: header.keyGroups ?? 0, groups }, header.shared)
}

/** Where a keyed state file keeps each key group (`[keyGroup, offset, length]`), and its operator-wide data. */
export interface KeyedFileLayout {
  keyGroups: number
  shared: unknown
  groups: [keyGroup: number, offset: number, length: number][]
}

/**
 * The layout of a keyed state file of `size` bytes, read through `read` (its trailer and header only), so that
 * a restore can decode each group when it is read (see `decodeGroup`); undefined for a file of the older layout
 * or of state not split by key group.
 */
export function keyedFileLayout(size: number, read: (offset: number, length: number) => Uint8Array): KeyedFileLayout | undefined {
  if (size < TRAILER) return undefined
  const tail = Buffer.from(read(size - TRAILER, TRAILER))
  if (!tail.subarray(4).equals(MAGIC)) return undefined
  const headAt = size - TRAILER - tail.readUInt32LE(0)
  if (headAt < 0) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', 'a state file is shorter than its header says', { domain: 'external' })
  const header = checkHeader(deserialize(read(headAt, size - TRAILER - headAt)) as Header)
  if (header.plain !== undefined) return undefined
  const groups = header.groups ?? []
  for (const [g, offset, length] of groups) {
    if (offset + length > headAt) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `a state file ends inside key group ${g}`, { domain: 'external' })
  }
  return { keyGroups: header.keyGroups ?? 0, shared: header.shared, groups }
}

/** Decodes key group `g` from its bytes as `keyedFileIndex` gives them. */
export function decodeGroup(bytes: Uint8Array, g: number): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return readPart(buf, 0, buf.byteLength, buf.byteLength, `key group ${g}`)
}

function readHeader(buf: Buffer): { header: Header; headAt: number } {
  const headEnd = buf.byteLength - TRAILER
  const headAt = headEnd - buf.readUInt32LE(headEnd)
  if (headAt < 0) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', 'a state file is shorter than its header says', { domain: 'external' })
  return { header: checkHeader(deserialize(buf.subarray(headAt, headEnd)) as Header), headAt }
}

function checkHeader(header: Header): Header {
  if (header.codec !== CODEC) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `a state file uses layout '${String(header.codec)}', which this version of Sluice cannot read`, { hint: 'restore with the version that wrote the checkpoint' })
  }
  return header
}

/** One value of a state file: `length` bytes at `from`, which must end before `limit`. */
function readPart(buf: Buffer, from: number, length: number, limit: number, what: string): unknown {
  if (from + length > limit) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `a state file ends inside ${what}`, { domain: 'external' })
  const r = new ByteReader(buf, `the state of ${what}`, from, from + length)
  let v: unknown
  try {
    v = readValue(r)
  } catch (e) {
    throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `the state of ${what} in a state file is damaged: ${errorMessage(e)}`, { domain: 'external', cause: e })
  }
  if (r.pos !== from + length) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `the state of ${what} has ${from + length - r.pos} bytes left over`, { domain: 'external' })
  return v
}

function withShared(snap: KeyedSnapshot, shared: unknown): KeyedSnapshot {
  if (shared !== undefined) snap.shared = shared
  return snap
}
