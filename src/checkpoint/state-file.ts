import { deserialize, serialize } from 'node:v8'
import { SluiceError } from '../core/errors.ts'
import type { KeyedSnapshot } from '../core/operator.ts'
import { isKeyedSnapshot } from './redistribute.ts'
import { shred, unshred, type Node } from './columnar.ts'

/** A state file holds key groups up to about this size; more state makes more files (files stay far below 2 GiB). */
const PART_BYTES = 256 * 1024 * 1024

/** The layout of state data in a file: `columnar` is shredded into columns first (see columnar.ts). */
const CODEC = 'columnar'

/** The first bytes of a keyed state file: then the header's length (u32, little-endian), the header, the groups. */
const MAGIC = Buffer.from('SLUICEKS')

/** What a keyed state file's header says: its groups as `[keyGroup, offset, length]` after the header. */
interface KeyedHeader {
  codec: string
  keyGroups: number
  shared?: unknown
  groups: [number, number, number][]
}

/**
 * How an operator's snapshot is stored in state files: shredded into columns (columnar.ts), then v8
 * serialization. A keyed snapshot is serialized one key group at a time (a restore that owns only some key
 * groups decodes only those) and split into parts of about 256 MiB: each part a header (key groups, shared
 * data, where each group is) followed by the groups' bytes as they were serialized, with no second copy.
 */
export function encodeState(state: unknown, partBytes: number = PART_BYTES): Uint8Array[] {
  if (!isKeyedSnapshot(state)) return [serialize({ codec: CODEC, plain: shred(state) })]
  const parts: Uint8Array[] = []
  let blobs: Uint8Array[] = []
  let index: [number, number, number][] = []
  let bytes = 0
  const flush = () => {
    const header: KeyedHeader = { codec: CODEC, keyGroups: state.keyGroups, groups: index }
    if (state.shared !== undefined) header.shared = state.shared
    const head = serialize(header)
    const length = Buffer.alloc(4)
    length.writeUInt32LE(head.byteLength)
    parts.push(Buffer.concat([MAGIC, length, head, ...blobs]))
    blobs = []
    index = []
    bytes = 0
  }
  for (const [g, data] of Object.entries(state.groups)) {
    const b = serialize(shred(data))
    if (bytes > 0 && bytes + b.byteLength > partBytes) flush()
    index.push([Number(g), bytes, b.byteLength])
    blobs.push(b)
    bytes += b.byteLength
  }
  flush()
  return parts
}

/** Decodes a state file; for a keyed snapshot, only the groups `owned` accepts (all by default). */
export function decodeState(data: Uint8Array, owned: (keyGroup: number) => boolean = () => true): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (buf.byteLength >= MAGIC.byteLength + 4 && buf.subarray(0, MAGIC.byteLength).equals(MAGIC)) return decodeKeyed(buf, owned)
  const box = deserialize(buf) as { codec?: string; plain?: unknown; keyed?: { keyGroups: number; shared?: unknown; groups: Record<number, Uint8Array> } }
  checkCodec(box.codec)
  // Files written before the columnar layout hold the values themselves.
  const decode = box.codec === CODEC ? (v: unknown) => unshred(v as Node) : (v: unknown) => v
  if (box.keyed === undefined) return decode(box.plain)
  const groups: Record<number, unknown> = {}
  for (const [g, bytes] of Object.entries(box.keyed.groups)) if (owned(Number(g))) groups[Number(g)] = decode(deserialize(bytes))
  return withShared({ keyGroups: box.keyed.keyGroups, groups }, box.keyed.shared)
}

function decodeKeyed(buf: Buffer, owned: (keyGroup: number) => boolean): KeyedSnapshot {
  const headAt = MAGIC.byteLength + 4
  const headEnd = headAt + buf.readUInt32LE(MAGIC.byteLength)
  const header = deserialize(buf.subarray(headAt, headEnd)) as KeyedHeader
  checkCodec(header.codec)
  const groups: Record<number, unknown> = {}
  for (const [g, offset, length] of header.groups) {
    if (!owned(g)) continue
    const from = headEnd + offset
    if (from + length > buf.byteLength) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `a state file ends inside key group ${g}`)
    groups[g] = unshred(deserialize(buf.subarray(from, from + length)) as Node)
  }
  return withShared({ keyGroups: header.keyGroups, groups }, header.shared)
}

function checkCodec(codec: string | undefined): void {
  if (codec !== undefined && codec !== CODEC) {
    throw new SluiceError('SLUICE_CHECKPOINT_UNREADABLE', `a state file uses layout '${codec}', which this version of Sluice cannot read`, { hint: 'restore with the version that wrote the checkpoint' })
  }
}

function withShared(snap: KeyedSnapshot, shared: unknown): KeyedSnapshot {
  if (shared !== undefined) snap.shared = shared
  return snap
}
