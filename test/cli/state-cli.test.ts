import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { encodeState } from '../../src/checkpoint/state-file.ts'
import { sha256, writeCheckpointFolder } from '../../src/checkpoint/storage.ts'
import { MANIFEST_FORMAT, type Manifest } from '../../src/checkpoint/manifest.ts'
import { stateCommand } from '../../src/cli/commands/state.ts'
import type { CliContext } from '../../src/cli/command.ts'
import { WindowOperator } from '../../src/operators/window/window-operator.ts'
import { window } from '../../src/operators/window/assigners.ts'
import { agg } from '../../src/operators/aggregate/functions.ts'
import { OperatorHarness } from '../../src/testing/operator-harness.ts'
import { KeyedProcessOperator } from '../../src/operators/process/keyed-process-operator.ts'
import { DEFAULT_KEY_GROUPS, keyGroupOf } from '../../src/core/key.ts'

/** A savepoint of one tumbling window step holding open windows of keys a, b, c and {user: 7}. */
async function savepoint(folder: string): Promise<void> {
  const assigner = window.tumbling({ size: '100ms' })
  const h = new OperatorHarness((ctx) => new WindowOperator({ assigner, trigger: assigner.defaultTrigger(), aggregate: agg.count(), allowedLateness: 0, lateTag: 'late' }, ctx), { stepId: 'window-1' })
  h.push([
    { key: 'a', value: 1, time: 1010 },
    { key: 'a', value: 2, time: 1020 },
    { key: 'b', value: 3, time: 1030 },
    { key: 'c', value: 4, time: 1150 },
    { key: { user: 7 }, value: 5, time: 1160 },
  ])
  const data = Buffer.concat(encodeState(h.snapshot()).map((p) => Buffer.from(p)))
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, kind: 'savepoint', id: 3, pipeline: 'clicks', createdAt: '2026-01-01T00:00:00.000Z', parallelism: 1, keyGroups: DEFAULT_KEY_GROUPS,
    sources: [], sinks: [], vertices: [], metrics: [],
    operators: [{ step: 'window-1', kind: 'window-aggregate', keyed: true, descriptor: {}, files: [{ subtask: 0, file: 'window-1.0.state', bytes: data.byteLength, sha256: sha256(data) }] }],
  }
  await writeCheckpointFolder(folder, manifest, [{ name: 'window-1.0.state', data }])
}

async function run(args: string[], values: Record<string, string | boolean>): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough()
  let out = ''
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  const ctx = { stdout, stderr: new PassThrough(), cwd: process.cwd(), env: {}, commands: [] } as unknown as CliContext
  const code = await stateCommand.run({ values, positionals: args }, ctx)
  return { code, out }
}

test('sluice state lists steps, keys per key group, and the state of one key', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-state-cli-'))
  try {
    const sp = join(base, 'sp')
    await savepoint(sp)
    const all = JSON.parse((await run([sp], { json: true })).out)
    assert.equal(all.kind, 'savepoint')
    assert.equal(all.steps.length, 1)
    assert.equal(all.steps[0].step, 'window-1')
    assert.equal(all.steps[0].keys, 4)
    const groups = all.steps[0].groups as { group: number; keys: number; bytes: number }[]
    assert.equal(groups.reduce((n, g) => n + g.keys, 0), 4)
    assert.ok(groups.some((g) => g.group === keyGroupOf('a', DEFAULT_KEY_GROUPS) && g.bytes > 0))

    const text = await run([sp], { step: 'window-1' })
    assert.match(text.out, /window-1 \(window-aggregate\): 4 keys in \d+ key groups/)
    assert.match(text.out, /key group \d+: \d+ keys, \d+ bytes/)

    const a = JSON.parse((await run([sp], { step: 'window-1', key: 'a', json: true })).out)
    assert.equal(a.group, keyGroupOf('a', DEFAULT_KEY_GROUPS))
    assert.equal(a.lists.windows.length, 1)
    assert.deepEqual(a.lists.windows[0].map((w: { start: number; end: number; acc: number }) => [w.start, w.end, w.acc]), [[1000, 1100, 2]])
    assert.deepEqual(a.lists.event, [1099], "the window's timer")
    assert.deepEqual(a.rows, [{ window: { start: 1000, end: 1100 }, value: 2 }], 'as readState gives it')
    const aText = (await run([sp], { step: 'window-1', key: 'a' })).out
    assert.match(aText, /as readState gives it:\n {4}\{"window":\{"start":1000,"end":1100\},"value":2\}\n {2}as the step saved it:\n {4}event: 1099\n {4}windows: /)
    const obj = JSON.parse((await run([sp], { step: 'window-1', key: '{"user":7}', json: true })).out)
    assert.equal(obj.lists.windows[0][0].acc, 1)
    assert.deepEqual(obj.rows, [{ window: { start: 1100, end: 1200 }, value: 1 }])
    const none = await run([sp], { step: 'window-1', key: 'zz' })
    assert.match(none.out, /no state/)
    await assert.rejects(run([sp], { step: 'nope' }), /no state for step 'nope'/)
    // The checkpoint folder of a run: its newest complete checkpoint.
    await savepoint(join(base, 'chk', 'chk-00000003'))
    assert.equal(JSON.parse((await run([join(base, 'chk')], { json: true })).out).id, 3)
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

test("sluice state reads a process function's state from a base and its delta (durable store), with its states' descriptions", async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-state-cli-'))
  const h = new OperatorHarness(
    (ctx) =>
      new KeyedProcessOperator<{ n: number }, never>(
        {
          processElement(r, c) {
            const n = c.state.value<number>('n')
            if (r.n === 0) n.clear()
            else n.set((n.get() ?? 0) + r.n)
            c.state.list<number>('seen').add(r.n)
          },
        },
        ctx,
      ),
    { stepId: 'process-1', state: 'durable' },
  )
  try {
    h.push([
      { key: 'a', value: { n: 1 }, time: 1 },
      { key: 'b', value: { n: 5 }, time: 1 },
    ])
    const first = Buffer.concat(encodeState(h.operator.snapshotIncremental!(true)).map((p) => Buffer.from(p)))
    h.push([
      { key: 'a', value: { n: 2 }, time: 2 },
      { key: 'b', value: { n: 0 }, time: 2 },
    ])
    const delta = Buffer.concat(encodeState(h.operator.snapshotIncremental!(false)).map((p) => Buffer.from(p)))
    const manifest: Manifest = {
      format: MANIFEST_FORMAT, kind: 'checkpoint', id: 5, pipeline: 'counts', createdAt: '2026-01-01T00:00:00.000Z', parallelism: 1, keyGroups: DEFAULT_KEY_GROUPS,
      sources: [], sinks: [], vertices: [], metrics: [],
      operators: [{
        step: 'process-1', kind: 'process', keyed: true, descriptor: {},
        files: [
          { subtask: 0, file: 'process-1.0.state', bytes: first.byteLength, sha256: sha256(first), checkpoint: 5 },
          { subtask: 0, file: 'process-1.0.delta', bytes: delta.byteLength, sha256: sha256(delta), delta: true },
        ],
      }],
    }
    const cp = join(base, 'chk-00000005')
    await writeCheckpointFolder(cp, manifest, [{ name: 'process-1.0.state', data: first }, { name: 'process-1.0.delta', data: delta }])
    assert.equal(JSON.parse((await run([cp], { json: true })).out).steps[0].keys, 2)
    const a = JSON.parse((await run([cp], { step: 'process-1', key: 'a', json: true })).out)
    assert.deepEqual(a.rows, [{ value: { n: 3, seen: [1, 2] } }])
    assert.deepEqual(a.lists['value:n'], [{ namespace: '', value: 3, expiry: null }])
    // b's count was cleared by the delta; its list is left.
    const b = JSON.parse((await run([cp], { step: 'process-1', key: 'b', json: true })).out)
    assert.deepEqual(b.rows, [{ value: { seen: [5, 0] } }])
    assert.equal(b.lists['value:n'], undefined)
  } finally {
    h.close()
    await rm(base, { recursive: true, force: true })
  }
})
