import type { SnapshotEntry } from '../../core/state-backend.ts'
import { v8Codec } from '../../core/state-codec.ts'
import { type Cell, fromWire, type StateSlot, toWire } from '../cells.ts'
import { decodeValue, encodeShared, encodeValue, type SharedBytes } from './value-codec.ts'

/*
 * A cell as the durable store holds it: its wire form, a `v8` state's in the store's compact form (what a
 * structured clone keeps, several times faster than `v8.serialize`), any other with the state's codec.
 */

/** Encodes a cell for a store that copies it at once: a `v8` state's bytes are in a buffer the next encoding reuses. */
export function encodeCell(slot: StateSlot, c: Cell): Uint8Array {
  const w = toWire(slot, c)
  return slot.codec === v8Codec ? encodeShared(w) : slot.codec.encode(w)
}

/**
 * How many bytes of what `encodeCell` returned are the cell's: the shared buffer is larger than the value it
 * holds (its `length` is the buffer's).
 */
export function encodedLength(bytes: Uint8Array): number {
  const shared = bytes as Partial<SharedBytes>
  return shared.end === undefined ? bytes.length : shared.end - shared.start!
}

/** Encodes a cell's wire form in bytes of its own (a restore batches them before writing). */
export function encodeWire(slot: StateSlot, w: [unknown, SnapshotEntry[3]]): Uint8Array {
  return slot.codec === v8Codec ? encodeValue(w) : slot.codec.encode(w)
}

/** A cell from the store's bytes, read at once (the store may reuse the buffer). */
export function decodeCell(slot: StateSlot, bytes: Uint8Array): Cell {
  const [v, e] = (slot.codec === v8Codec ? decodeValue(bytes) : slot.codec.decode(bytes)) as [unknown, SnapshotEntry[3]]
  return fromWire(slot, v, e)
}
