import { failpoint } from '../../core/failpoints.ts'
import type { DeadLetter } from '../../dlq/record.ts'
import type { LetterWriter } from '../../dlq/letter-writer.ts'
import type { Ack } from './protocol.ts'

/** The dead-letter writer's name among the sinks of a manifest. */
export const DEAD_LETTERS_VERTEX = -1

/**
 * On thread 0 under `dead-letter`: the letters of every thread go to one writer. At a barrier, each thread sends
 * its letters from before it, then a marker, then the rest; the writer pre-commits once every thread's marker has
 * arrived, and letters that came after a marker wait for that. So a checkpoint holds exactly the letters of the
 * records before its barrier, at any parallelism.
 */
export class DeadLetterCollector {
  readonly writer: LetterWriter
  private readonly threads: number
  private readonly ack: (a: Ack) => void
  private markers = new Set<number>()
  private current: number | undefined
  private held: DeadLetter[] = []
  private readonly uncommitted: { checkpointId: number; handle: unknown }[] = []
  private busy: Promise<void> = Promise.resolve()

  constructor(writer: LetterWriter, threads: number, ack: (a: Ack) => void) {
    this.writer = writer
    this.threads = threads
    this.ack = ack
  }

  letters(from: number, letters: DeadLetter[]): void {
    if (this.current !== undefined && this.markers.has(from)) {
      for (const l of letters) this.held.push(l)
      return
    }
    for (const l of letters) this.writer.add(l)
  }

  marker(from: number, id: number, drain: boolean): void {
    this.current = id
    this.markers.add(from)
    if (this.markers.size < this.threads) return
    this.markers = new Set()
    this.current = undefined
    const held = this.held
    this.held = []
    const t0 = performance.now()
    if (drain) {
      for (const l of held) this.writer.add(l)
      this.ack({ id, vertex: DEAD_LETTERS_VERTEX, subtask: 0, ms: 0, kind: 'drained' })
      return
    }
    // Called now, so that it takes exactly the letters added so far: those held, and any sent from here on,
    // belong to the next checkpoint even while an earlier pre-commit is still being written.
    const handle = this.writer.preCommit(id)
    // Awaited on the chain below; a failure is reported there, not as an unhandled rejection before it.
    handle.catch(() => undefined)
    this.busy = this.busy.then(async () => {
      this.uncommitted.push({ checkpointId: id, handle: await handle })
      this.ack({ id, vertex: DEAD_LETTERS_VERTEX, subtask: 0, ms: performance.now() - t0, kind: 'dead-letters', pending: this.uncommitted.slice() })
    })
    for (const l of held) this.writer.add(l)
  }

  async commitUpTo(id: number): Promise<void> {
    await this.busy
    while (this.uncommitted.length > 0 && this.uncommitted[0].checkpointId <= id) {
      const p = this.uncommitted.shift()!
      await this.writer.commit(p.checkpointId, p.handle)
      failpoint('sink-commit')
    }
  }

  /** Before any letter: the restored checkpoint's pending handles, and its id (undefined on a fresh start). */
  async recover(pending: { checkpointId: number; handle: unknown }[], checkpointId?: number): Promise<void> {
    await this.writer.recover(pending.map((p) => ({ subtask: 0, ...p })), checkpointId)
  }
}
