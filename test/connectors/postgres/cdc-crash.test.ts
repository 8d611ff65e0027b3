import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prng } from '../../checkpoint/crash.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

// CDC from one Postgres table through an aggregate into a Postgres sink, SIGKILLed at random moments while
// the table changes: once the changes stop and a last run catches up, the target table equals the same
// aggregate computed by SQL.

const child = fileURLToPath(new URL('./fixtures/cdc-aggregate-child.ts', import.meta.url))

function start(schema: string, dir: string): { p: ChildProcess; ended: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const p = spawn(process.execPath, [child, pgUrl(), schema, dir], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  p.stderr!.on('data', (d) => (stderr += d))
  const ended = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => p.on('close', (code, signal) => resolve({ code, signal, stderr })))
  return { p, ended }
}

/** Customer totals as a sorted list of 'customer=total', from the target or from SQL over the source. */
const totals = async (schema: string) => (await sql(`SELECT customer, total::bigint::text AS total FROM ${schema}.totals WHERE total <> 0 ORDER BY customer`).catch(() => [])).map((r) => `${r.customer}=${r.total}`)
const expected = async (schema: string) => (await sql(`SELECT customer, sum(amount)::bigint::text AS total FROM ${schema}.orders GROUP BY customer ORDER BY customer`)).map((r) => `${r.customer}=${r.total}`)

/** A few random changes to the orders, in one transaction. */
async function mutate(schema: string, rnd: () => number, nextId: { n: number }): Promise<void> {
  const stmts: string[] = []
  for (let i = 0; i < 1 + Math.floor(rnd() * 5); i++) {
    const r = rnd()
    const id = 1 + Math.floor(rnd() * nextId.n)
    if (r < 0.5) stmts.push(`INSERT INTO ${schema}.orders VALUES (${nextId.n++}, 'c${Math.floor(rnd() * 12)}', ${1 + Math.floor(rnd() * 100)})`)
    else if (r < 0.8) stmts.push(`UPDATE ${schema}.orders SET amount = ${1 + Math.floor(rnd() * 100)}, customer = 'c${Math.floor(rnd() * 12)}' WHERE id = ${id}`)
    else stmts.push(`DELETE FROM ${schema}.orders WHERE id = ${id}`)
  }
  await sql(`BEGIN; ${stmts.join('; ')}; COMMIT`)
}

test('CDC through an aggregate into Postgres, SIGKILLed at random moments: the target equals the SQL aggregate', { skip: pgService.skip, timeout: 300_000 }, async () => {
  const schema = await freshSchema('cdccrash')
  await sql(`CREATE TABLE ${schema}.orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL, amount BIGINT NOT NULL)`)
  await sql(`ALTER TABLE ${schema}.orders REPLICA IDENTITY FULL`)
  await sql(`INSERT INTO ${schema}.orders SELECT i, 'c' || (i % 12), 1 + (i * 7) % 100 FROM generate_series(1, 200) i`)
  const nextId = { n: 201 }
  const rnd = prng(12)
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cdc-crash-'))
  try {
    for (let round = 0; round < 6; round++) {
      const c = start(schema, dir)
      // Changes go on while the job runs and is killed; they land in the WAL either way.
      const killAt = Date.now() + 1500 + Math.floor(rnd() * 2500)
      while (Date.now() < killAt) {
        await mutate(schema, rnd, nextId)
        await new Promise((r) => setTimeout(r, 20))
      }
      c.p.kill('SIGKILL')
      const r = await c.ended
      assert.equal(r.signal, 'SIGKILL', `the job ended before it was killed: code ${r.code}\n${r.stderr}`)
    }
    const want = (await expected(schema)).filter((t) => !t.endsWith('=0'))
    const last = start(schema, dir)
    try {
      const deadline = Date.now() + 60_000
      let got = await totals(schema)
      while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200))
        got = await totals(schema)
      }
      assert.deepEqual(got, want)
    } finally {
      last.p.kill('SIGKILL')
      await last.ended
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '${schema}_slot' AND NOT active`).catch(() => undefined)
  }
})
