import { test } from 'node:test'
import assert from 'node:assert/strict'
import { run } from '../../src/index.ts'
import type { CollectSink } from '../../src/connectors/memory/collect-sink.ts'
import * as tumbling from './fixtures/tumbling-count.ts'
import * as session from './fixtures/session-late.ts'
import * as timers from './fixtures/process-timers.ts'
import * as keyedAgg from './fixtures/keyed-aggregate.ts'
import * as twoStages from './fixtures/two-stages.ts'
import * as mixedUnion from './fixtures/mixed-union.ts'
import * as lateUpdates from './fixtures/late-updates.ts'

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url).href

/** Every record with its time and changelog kind, in a canonical order. */
function sortedRecords(s: CollectSink<unknown>): string[] {
  return s.records.map((r) => JSON.stringify(r)).sort()
}

function sortedTable(s: CollectSink<unknown>): string[] {
  return s.table().map((r) => JSON.stringify(r)).sort()
}

const parallelisms = [1, 2, 4]

test('keyed tumbling count: same windows for parallelism 1, 2 and 4', async () => {
  const results: string[][] = []
  for (const parallelism of parallelisms) {
    const { pipeline, out } = tumbling.build()
    const summary = await run(pipeline, { parallelism, module: fixture('tumbling-count') })
    assert.equal(summary.status, 'finished')
    assert.equal(summary.parallelism, parallelism)
    assert.equal(summary.recordsIn, 50_000)
    assert.equal(out.values.reduce((a, r) => a + r.value, 0), 50_000)
    assert.equal(new Set(out.values.map((r) => r.key)).size, 1000)
    // Every record reaches the window's combiner (which folds them into partials at parallelism > 1).
    assert.equal(summary.steps.find((m) => m.step === 'combine-1')?.in, 50_000)
    assert.equal(out.closed, true)
    results.push(sortedRecords(out))
  }
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})

test('session windows with allowed lateness over a source split across subtasks: the same updates and late records run after run at one parallelism, every record counted once at any', async () => {
  // The source's three partitions are divided among the subtasks, and a subtask's watermark follows only the
  // partitions it reads: at another parallelism a record may meet another watermark (as in any engine that
  // splits its sources). For one parallelism the outcome does not depend on thread timing: a record reaches the
  // window with exactly the watermark its source subtask had when it was read.
  const runOnce = async (parallelism: number) => {
    const { pipeline, out, late } = session.build()
    const summary = await run(pipeline, { parallelism, module: fixture('session-late') })
    const counted = out.table().reduce((a, r) => a + r.value.n, 0)
    assert.equal(counted + late.values.length, 30_000, `parallelism ${parallelism}: records in sessions plus late records`)
    assert.equal(summary.late, late.values.length)
    return { out: sortedRecords(out), late: sortedRecords(late) }
  }
  const p1 = await runOnce(1)
  assert.ok(p1.late.length > 0, 'the fixture produces records that are too late')
  assert.ok(p1.out.some((r) => r.includes('"-U"')), 'the fixture produces late updates')
  assert.deepEqual(await runOnce(1), p1)
  const p2 = await runOnce(2)
  assert.deepEqual(await runOnce(2), p2)
  await runOnce(4)
})

test('keyed process function with event-time timers: same output for any parallelism', async () => {
  const results: string[][] = []
  for (const parallelism of parallelisms) {
    const { pipeline, out } = timers.build()
    await run(pipeline, { parallelism, module: fixture('process-timers') })
    assert.equal(out.values.reduce((a, r) => a + r.n, 0), 40_000)
    results.push(sortedRecords(out))
  }
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})

test('keyed aggregate changelog with tuple keys: same materialized table for any parallelism', async () => {
  const tables: string[][] = []
  for (const parallelism of parallelisms) {
    const { pipeline, out } = keyedAgg.build()
    await run(pipeline, { parallelism, module: fixture('keyed-aggregate') })
    const table = out.table()
    assert.equal(table.length, 900)
    assert.ok(table.every((r) => Array.isArray(r.key) && r.key.length === 2))
    tables.push(sortedTable(out))
  }
  assert.deepEqual(tables[1], tables[0])
  assert.deepEqual(tables[2], tables[0])
})

test('two keyed stages in a row: same results for any parallelism', async () => {
  const results: { perUser: string[]; out: string[] }[] = []
  for (const parallelism of parallelisms) {
    const { pipeline, perUser, out } = twoStages.build()
    const summary = await run(pipeline, { parallelism, module: fixture('two-stages') })
    assert.equal(out.values.reduce((a, r) => a + r.value.clicks, 0), 60_000)
    assert.equal(out.values.reduce((a, r) => a + r.value.users, 0), perUser.values.length)
    // Every count reaches the second window's combiner (which folds them into partials at parallelism > 1).
    assert.equal(summary.steps.find((m) => m.step === 'combine-2')?.in, perUser.values.length)
    results.push({ perUser: sortedRecords(perUser), out: sortedRecords(out) })
  }
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})

test('a main-thread union of parallel output and the source feeding another keyed stage: same results for any parallelism', async () => {
  const results: string[][] = []
  for (const parallelism of parallelisms) {
    const { pipeline, out } = mixedUnion.build()
    const summary = await run(pipeline, { parallelism, module: fixture('mixed-union') })
    assert.equal(summary.late, 0)
    const total = (kind: string) => out.values.filter((r) => r.key === kind).reduce((a, r) => a + r.value, 0)
    assert.equal(total('click'), 20_000)
    assert.equal(total('window'), 20_000)
    results.push(sortedRecords(out))
  }
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})

test('late updates crossing a keyed boundary are late downstream for the same records at any parallelism', async () => {
  const results: { out: string[]; late: string[] }[] = []
  for (const parallelism of parallelisms) {
    const { pipeline, out, late } = lateUpdates.build()
    const summary = await run(pipeline, { parallelism, module: fixture('late-updates') })
    assert.equal(summary.late, late.values.length)
    results.push({ out: sortedRecords(out), late: sortedRecords(late) })
  }
  assert.ok(results[0].late.length > 0, 'the fixture sends session updates behind the second window watermark')
  assert.deepEqual(results[1], results[0])
  assert.deepEqual(results[2], results[0])
})
