// source.postgresCdc in the source conformance (resume) suite of src/connectors/resume.test.ts: read, take
// positions wherever a checkpoint could be taken (also inside a transaction), open a fresh reader, seek, read
// the rest; before and after the cut together equal one straight read. Against the real server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { source } from '../../../src/index.ts'
import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE } from '../../../src/core/batch.ts'
import { checkResumeUnbounded } from '../../../src/connectors/resume-support.ts'
import { lsnBytes } from '../../../src/connectors/postgres/cdc/lsn.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

const skip = pgService.skip

/** Changes in transactions of one and of several statements: 5 + 2·3 + (2·4 + 2) + 10 + 1 = 32 changes. */
async function workload(t: string): Promise<void> {
  await sql(`BEGIN; INSERT INTO ${t} SELECT i, 'n' || i, i FROM generate_series(101, 105) i; COMMIT`)
  for (const id of [1, 2, 3]) await sql(`UPDATE ${t} SET qty = qty + 1 WHERE id = ${id}`)
  await sql(`BEGIN; UPDATE ${t} SET name = 'u' WHERE id BETWEEN 4 AND 7; DELETE FROM ${t} WHERE id IN (8, 9); COMMIT`)
  await sql(`INSERT INTO ${t} SELECT i, 'm' || i, i FROM generate_series(201, 210) i`)
  await sql(`DELETE FROM ${t} WHERE id = 101`)
}

for (const [max, resumeMax] of [[3, 7], [8, 1]] as const) {
  test(`postgresCdc: resumes at an LSN and a count of the next transaction's changes (batches of ${max}, then ${resumeMax})`, { skip }, async () => {
    const schema = await freshSchema(`cdcresume${max}`)
    const t = `${schema}.items`
    await sql(`CREATE TABLE ${t} (id BIGINT PRIMARY KEY, name TEXT, qty INT)`)
    await sql(`ALTER TABLE ${t} REPLICA IDENTITY FULL`)
    await sql(`INSERT INTO ${t} SELECT i, 'r' || i, i FROM generate_series(1, 12) i`)
    const slot = `${schema}_slot`
    const make = () => source.postgresCdc({ url: pgUrl(), slot, publication: `${schema}_pub`, tables: [t] })
    try {
      // 12 snapshot rows, then the workload's 32 changes. Cuts: the snapshot's end, inside and between
      // transactions, and after the last change (nothing may come again).
      const { resumed } = await checkResumeUnbounded(make, { total: 12 + 32, max, resumeMax, cuts: [0, 1, 2, 3, 5, 8, -2, -1], feed: () => workload(t) })
      assert.ok(resumed.length >= 4, `${resumed.length} cuts`)
      // Each resumed reader confirmed its cut: the slot stands past the snapshot's end (the first cut).
      const [{ lsn }] = await sql('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot])
      const first = (resumed[0].positions[0] as { lsn: string }).lsn
      assert.ok(lsnBytes(String(lsn)) > lsnBytes(first), `confirmed ${String(lsn)}, snapshot end ${first}`)
    } finally {
      await sql(`SELECT pg_drop_replication_slot('${slot}')`).catch(() => undefined)
    }
  })
}

test('postgresCdc: the straight read is the snapshot, then each change once with its kind', { skip }, async () => {
  // The reference the resume cases compare with, checked once against what the workload did.
  const schema = await freshSchema('cdcresumeref')
  const t = `${schema}.items`
  await sql(`CREATE TABLE ${t} (id BIGINT PRIMARY KEY, name TEXT, qty INT)`)
  await sql(`ALTER TABLE ${t} REPLICA IDENTITY FULL`)
  await sql(`INSERT INTO ${t} SELECT i, 'r' || i, i FROM generate_series(1, 12) i`)
  const slot = `${schema}_slot`
  const reader = await source.postgresCdc({ url: pgUrl(), slot, publication: `${schema}_pub`, tables: [t] }).open({ pipeline: 't', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined })
  const kinds: number[] = []
  try {
    for (let started = false, waits = 0; kinds.length < 44 && waits < 600; ) {
      const r = await reader.read(0, 10)
      if (!started) {
        await workload(t)
        started = true
      }
      if (r === null || typeof r !== 'object') waits++
      else kinds.push(...r.values.map((_, i) => r.kinds?.[i] ?? INSERT))
    }
  } finally {
    await reader.close()
    await sql(`SELECT pg_drop_replication_slot('${slot}')`).catch(() => undefined)
  }
  const U = [UPDATE_BEFORE, UPDATE_AFTER]
  assert.deepEqual(kinds, [...Array(12 + 5).fill(INSERT), ...U, ...U, ...U, ...U, ...U, ...U, ...U, DELETE, DELETE, ...Array(10).fill(INSERT), DELETE])
})
