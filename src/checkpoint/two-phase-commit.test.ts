import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SluiceError } from '../core/errors.ts'
import { TwoPhaseCommit, type AbortScope, type Transactions } from './two-phase-commit.ts'

/** Transactions kept in memory: what was staged, pre-committed, committed (with repeats), and each abort's scope. */
function memory() {
  const log = { staged: [] as string[], committed: [] as string[], commits: 0, aborts: [] as { after: number | undefined; owned: number[]; subtasks: readonly number[] }[] }
  const txns: Transactions<{ items: string[] }> = {
    async preCommit() {
      if (log.staged.length === 0) return undefined
      return { items: log.staged.splice(0) }
    },
    async commit(t) {
      log.commits++
      for (const i of t.items) if (!log.committed.includes(i)) log.committed.push(i)
    },
    async abort(scope: AbortScope) {
      log.aborts.push({ after: scope.after, owned: [0, 1, 2, 3, 4, 5].filter((j) => scope.owns(j)), subtasks: scope.subtasks })
    },
    check(t) {
      if (!Array.isArray((t as { items?: unknown } | null)?.items)) throw new SluiceError('SLUICE_BAD_POSITION', 'not a transaction')
      return t as { items: string[] }
    },
  }
  return { log, txns }
}

const ctx = { subtask: 0, stepId: 'sink-1' }

test('a handle carries every transaction not yet committed; a commit of it commits them in order, once', async () => {
  const { log, txns } = memory()
  const tpc = new TwoPhaseCommit(txns, ctx, 'test sink')
  log.staged.push('a')
  await tpc.preCommit(1) // checkpoint 1 never completes
  const empty = await tpc.preCommit(2)
  assert.deepEqual(empty.txns.map((t) => t.checkpointId), [1], 'a checkpoint with nothing staged adds no transaction')
  log.staged.push('b')
  const h3 = await tpc.preCommit(3)
  assert.deepEqual(h3, { txns: [{ checkpointId: 1, txn: { items: ['a'] } }, { checkpointId: 3, txn: { items: ['b'] } }] })
  await tpc.commit(3, h3)
  assert.deepEqual(log.committed, ['a', 'b'])
  assert.equal(tpc.uncommitted.length, 0)
  await tpc.commit(3, h3)
  assert.equal(log.commits, 2, 'a second commit of the same handle calls no primitive')
  assert.equal(log.aborts.length, 1, 'the first pre-commit of a writer never recovered starts it fresh')
  assert.deepEqual(log.aborts[0], { after: undefined, owned: [0, 1, 2, 3, 4, 5], subtasks: [0] })
})

test('recover commits every inherited transaction oldest first, then aborts the rest of exactly the inherited subtasks', async () => {
  const { log, txns } = memory()
  const tpc = new TwoPhaseCommit(txns, { subtask: 1, parallelism: 2, stepId: 'sink-1' }, 'test sink')
  const h = (...ids: number[]) => ({ txns: ids.map((id) => ({ checkpointId: id, txn: { items: [`x${id}`] } })) })
  await tpc.recover([
    { subtask: 3, checkpointId: 5, handle: h(4, 5) },
    { subtask: 1, checkpointId: 4, handle: h(4) },
    { subtask: 1, checkpointId: 5, handle: h(4, 5) },
  ])
  assert.deepEqual(log.committed, ['x4', 'x5'])
  assert.deepEqual(log.aborts, [{ after: 5, owned: [1, 3, 5], subtasks: [1, 3] }])
})

test('a handle of a subtask this one does not inherit, or a malformed one, is refused', async () => {
  const { txns } = memory()
  const tpc = new TwoPhaseCommit(txns, { subtask: 0, parallelism: 2, stepId: 'sink-1' }, 'test sink')
  await assert.rejects(tpc.recover([{ subtask: 1, checkpointId: 1, handle: { txns: [] } }]), (e: unknown) => e instanceof SluiceError && e.domain === 'internal')
  const other = new TwoPhaseCommit(txns, ctx, 'test sink')
  await assert.rejects(other.commit(1, { files: [] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
  await assert.rejects(other.commit(1, { txns: [{ checkpointId: 1, txn: 'nope' }] }), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_BAD_POSITION')
})
