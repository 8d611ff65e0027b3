import { SluiceError } from '../core/errors.ts'
import { failpoint } from '../core/failpoints.ts'
import type { RestoredHandle, SinkContext } from '../core/sink.ts'

/**
 * What recovery discards: the output of the old subtasks this subtask inherits that is not committed, and
 * their committed output after checkpoint `after` (a restore of an older checkpoint or savepoint).
 */
export interface AbortScope {
  /** The restored checkpoint's id; undefined on a fresh start, when all their output goes. */
  readonly after: number | undefined
  /** Whether old subtask `j`'s output is this subtask's to discard: `j % parallelism === subtask`. */
  owns(j: number): boolean
  /** The old subtasks this one inherits handles from, and itself (for sinks that cannot list them). */
  readonly subtasks: readonly number[]
}

/**
 * The primitives a transactional sink supplies; `TwoPhaseCommit` does the rest. A transaction is whatever the
 * sink wrote between two barriers; `T` describes it in plain data (file names, a log range, transaction ids).
 */
export interface Transactions<T> {
  /**
   * Phase one at the barrier: ends the open transaction and makes it durable, not visible. Returns its
   * description, or undefined when it holds nothing. The next write opens a new one.
   */
  preCommit(checkpointId: number): Promise<T | undefined>
  /** Phase two: makes a transaction visible. Also called for one that is visible already (after a crash): a no-op then. */
  commit(txn: T, checkpointId: number): Promise<void>
  /** On restart, after the inherited transactions are committed: discards what `scope` names. */
  abort(scope: AbortScope): Promise<void>
  /** Checks a transaction read back from a manifest; throws a SluiceError if it is not one of this sink's. */
  check(txn: unknown): T
  /**
   * The transactions of a handle in the sink's format before this helper (checkpoints and savepoints of
   * earlier versions), or undefined if it is not one.
   */
  legacy?(handle: unknown): unknown[] | undefined
}

/** What `preCommit` returns (the sink's handle in a manifest): every transaction not yet committed, oldest first. */
export interface TwoPhaseHandle<T> {
  txns: { checkpointId: number; txn: T }[]
}

/**
 * The two-phase commit every transactional sink builds on: a transaction is staged as the sink writes,
 * pending from the barrier (`preCommit`), committed when its checkpoint completes (`commit`), and
 * recovered on restart (`recover`). It keeps the list of pending transactions, so the handle of checkpoint
 * n also carries those of earlier checkpoints that never completed, commits idempotently, and decides what
 * a restart keeps: the inherited transactions are committed, then the sink aborts the rest of the output
 * of the old subtasks it inherits (see `AbortScope`). Failpoints (core/failpoints.ts): `two-phase-pre-commit`
 * after a pre-commit, `two-phase-commit` after each transaction's commit, `two-phase-recover-commit` after
 * each inherited transaction's commit on restart.
 * @example
 * const tpc = new TwoPhaseCommit(files, ctx, 'sink.jsonl')
 * const writer = { write, close, preCommit: (id) => tpc.preCommit(id), commit: (id, h) => tpc.commit(id, h), recover: (r) => tpc.recover(r) }
 */
export class TwoPhaseCommit<T> {
  private readonly txns: Transactions<T>
  private readonly subtask: number
  private readonly parallelism: number
  private readonly step: string
  private readonly sink: string
  private pending: { checkpointId: number; txn: T }[] = []
  /** Transactions this writer committed, by checkpoint id (a second commit of the same handle skips them). */
  private committedUpTo = -Infinity
  private recovering: Promise<void> | undefined

  constructor(txns: Transactions<T>, ctx: Pick<SinkContext, 'subtask' | 'parallelism' | 'stepId'>, sink: string) {
    this.txns = txns
    this.subtask = ctx.subtask
    this.parallelism = ctx.parallelism ?? 1
    this.step = ctx.stepId
    this.sink = sink
  }

  /** True once `recover` ran (or started). */
  get recovered(): boolean {
    return this.recovering !== undefined
  }

  /** Transactions pre-committed and not committed, oldest first. */
  get uncommitted(): readonly { checkpointId: number; txn: T }[] {
    return this.pending
  }

  /** A writer that was never told what to recover starts fresh, before its first write. */
  ensureRecovered(): Promise<void> {
    return this.recovering ?? this.recover([])
  }

  async preCommit(checkpointId: number): Promise<TwoPhaseHandle<T>> {
    await this.ensureRecovered()
    const txn = await this.txns.preCommit(checkpointId)
    if (txn !== undefined) this.pending.push({ checkpointId, txn })
    failpoint('two-phase-pre-commit')
    return { txns: this.pending.map((p) => ({ checkpointId: p.checkpointId, txn: p.txn })) }
  }

  /** Commits the handle's transactions in order, then forgets them. Idempotent. */
  async commit(_checkpointId: number, handle: unknown): Promise<void> {
    const txns = this.parse(handle)
    for (const t of txns) {
      if (t.checkpointId <= this.committedUpTo) continue
      await this.txns.commit(t.txn, t.checkpointId)
      failpoint('two-phase-commit')
    }
    const last = txns.reduce((m, t) => Math.max(m, t.checkpointId), -Infinity)
    this.committedUpTo = Math.max(this.committedUpTo, last)
    this.pending = this.pending.filter((p) => p.checkpointId > last)
  }

  /**
   * Commits every inherited transaction (oldest first, each once), then has the sink discard the rest of
   * the inherited subtasks' output. An empty list is a fresh start. Call it before the first write; a second
   * call with the same list changes nothing.
   */
  recover(restored: readonly RestoredHandle[]): Promise<void> {
    this.recovering = this.doRecover(restored)
    return this.recovering
  }

  private async doRecover(restored: readonly RestoredHandle[]): Promise<void> {
    this.pending = []
    const all = new Map<string, { checkpointId: number; txn: T }>()
    for (const r of restored) {
      if (r.subtask % this.parallelism !== this.subtask) {
        throw new SluiceError('SLUICE_INTERNAL', `${this.sink}: subtask ${this.subtask} of ${this.parallelism} was given a handle of old subtask ${r.subtask}`, { domain: 'internal', step: this.step })
      }
      for (const t of this.parse(r.handle, r.checkpointId)) all.set(`${r.subtask}/${t.checkpointId}/${JSON.stringify(t.txn)}`, t)
    }
    for (const t of [...all.values()].sort((a, b) => a.checkpointId - b.checkpointId)) {
      await this.txns.commit(t.txn, t.checkpointId)
      failpoint('two-phase-recover-commit')
    }
    const after = restored.length === 0 ? undefined : Math.max(...restored.map((r) => r.checkpointId))
    const subtasks = [...new Set([this.subtask, ...restored.map((r) => r.subtask)])].sort((a, b) => a - b)
    await this.txns.abort({ after, owns: (j) => j % this.parallelism === this.subtask, subtasks })
  }

  private parse(handle: unknown, checkpointId?: number): { checkpointId: number; txn: T }[] {
    const old = checkpointId === undefined ? undefined : this.txns.legacy?.(handle)
    if (old !== undefined) return old.map((t) => ({ checkpointId: checkpointId!, txn: this.txns.check(t) }))
    const txns = (handle as TwoPhaseHandle<unknown> | null)?.txns
    if (!Array.isArray(txns) || !txns.every((t) => typeof t === 'object' && t !== null && Number.isSafeInteger(t.checkpointId))) {
      throw new SluiceError('SLUICE_BAD_POSITION', `${this.sink}: the checkpoint handle must be { txns: [{ checkpointId, txn }] }`, { domain: 'internal', step: this.step })
    }
    return txns.map((t) => ({ checkpointId: t.checkpointId, txn: this.txns.check(t.txn) }))
  }
}
