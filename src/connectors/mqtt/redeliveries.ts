import { createHash } from 'node:crypto'

/**
 * Recognises a QoS 1 message the broker sends again because the PUBACK of its first delivery was lost (the
 * process died between storing the message and acknowledging it). Such a message carries the DUP flag and the
 * packet id of the first delivery; it is taken as already stored when one of the last `window` stored messages
 * has that id, the same topic and the same payload. Packet ids are reused only after the broker has got their
 * PUBACK, and brokers hand them out in sequence, so a new message cannot match within the window unless it is
 * byte for byte the same on the same topic and the broker reused the id at once.
 */
export class Redeliveries {
  private readonly window: number
  private readonly byId = new Map<number, { seq: number; digest: string }>()
  private seq = 0

  constructor(window = 1024) {
    this.window = window
  }

  static digest(topic: string, payload: Uint8Array): string {
    return createHash('sha1').update(topic).update('\0').update(payload).digest('base64')
  }

  /** Notes a stored message. */
  stored(id: number, digest: string): void {
    this.byId.delete(id)
    this.byId.set(id, { seq: ++this.seq, digest })
    if (this.byId.size > this.window) {
      for (const [k, v] of this.byId) {
        if (this.seq - v.seq < this.window) break
        this.byId.delete(k)
      }
    }
  }

  /** True when a message with the DUP flag is one already stored. */
  isStored(id: number, digest: string): boolean {
    const e = this.byId.get(id)
    return e !== undefined && e.digest === digest && this.seq - e.seq < this.window
  }
}
