import type { RestoredHandle } from '../core/sink.ts'
import type { Log } from '../log/index.ts'
import type { DeadLetter } from './record.ts'

/**
 * What the runtime needs of a dead-letter writer, whatever stores the letters: the embedded log
 * (`DeadLetterWriter`) or a Kafka topic (`KafkaDeadLetterWriter`). The two-phase contract is a sink's:
 * `preCommit` at a checkpoint's barrier, `commit` once it is complete, `recover` on restart.
 * @example
 * const w: LetterWriter = await DeadLetterWriter.open({ dir: 'data/log', topic: 'clicks.dlq', checkpointing: true })
 * w.add(letter)
 * await w.commit(7, await w.preCommit(7))
 */
export interface LetterWriter {
  /** The dead-letter topic. */
  readonly topic: string
  /** Letters written so far by this writer. */
  readonly appended: number
  /** True once letters are written under checkpoints (exactly-once). */
  readonly checkpointing: boolean
  /** Letters added and not yet written. */
  readonly buffered: number
  /** The embedded log this writer holds open, for readers in the same process (absent for other stores). */
  readonly openLog?: Log
  /** Receives the promise of each automatic write, so the runner can wait on it (backpressure). */
  onPending: ((p: Promise<void>) => void) | undefined
  /** Buffers a letter (synchronous: called from the error policy inside a batch). */
  add(letter: DeadLetter): void
  /** At-least-once: writes what is buffered. */
  flush(): Promise<void>
  preCommit(checkpointId: number): Promise<unknown>
  commit(checkpointId: number, handle: unknown): Promise<void>
  recover(restored: readonly RestoredHandle[], checkpointId?: number): Promise<void>
  /** How many committed letters a restore of checkpoint `restored` would write again (see DeadLetterWriter). */
  committedAfter(restored: number | undefined): Promise<number>
  /** `finished`: the input ended, write and commit the rest; otherwise leave it to the replay. */
  close(finished?: boolean): Promise<void>
}
