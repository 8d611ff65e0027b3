// Runs the example as its README says: the job reads the table's snapshot and its changes, is stopped, misses
// changes while down, and is started again; each time the totals table catches up with the same aggregate
// computed by SQL over the source table.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { serviceOrSkip } from '../../test/support/services.ts'
import { SLOT, setup } from './setup.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const pgSvc = serviceOrSkip('postgres')

function startJob(url: string): { stop: () => Promise<number | null>; kill: () => void } {
  const job = spawn(process.execPath, ['bin/sluice.js', 'run', 'examples/postgres-cdc/pipeline.ts', '--quiet', '--checkpoint-dir', 'examples/postgres-cdc/out/chk', '--checkpoint-interval', '1s'], { cwd: root, env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  job.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => job.on('close', (code) => resolve(code)))
  return {
    stop: async () => {
      job.kill('SIGTERM')
      const code = await exited
      assert.equal(code, 143, stderr) // stopped by SIGTERM, gracefully
      return code
    },
    kill: () => job.kill('SIGKILL'),
  }
}

test('postgres-cdc: the totals follow the table through its snapshot, its changes, and changes made while the job was down', { skip: pgSvc.skip }, async () => {
  const url = String(pgSvc.info!.url)
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  rmSync(out, { recursive: true, force: true })
  await setup(url)
  const expected = async () => (await c.query('SELECT customer, sum(amount)::int AS revenue FROM cdc_orders GROUP BY customer ORDER BY customer')).rows
  const totals = async () => (await c.query('SELECT customer, revenue::int AS revenue FROM cdc_customer_totals WHERE revenue <> 0 ORDER BY customer').catch(() => ({ rows: [] }))).rows
  const caughtUp = async (what: string) => {
    for (let i = 0; i < 1800; i++) {
      if (JSON.stringify(await totals()) === JSON.stringify(await expected())) return
      await sleep(100)
    }
    assert.deepEqual(await totals(), await expected(), what)
  }
  let job = startJob(url)
  try {
    await caughtUp('the snapshot')
    await c.query('INSERT INTO cdc_orders VALUES (101, $1, 70), (102, $2, 30)', ['c1', 'c9'])
    await c.query('UPDATE cdc_orders SET amount = amount + 5 WHERE id = 1')
    await c.query("BEGIN; UPDATE cdc_orders SET customer = 'c2' WHERE id = 2; DELETE FROM cdc_orders WHERE id IN (3, 4); COMMIT")
    await caughtUp('the changes')
    await job.stop()
    // While the job is down the slot keeps the changes; a start from the checkpoint reads them once.
    await c.query('DELETE FROM cdc_orders WHERE customer = $1', ['c5'])
    await c.query('UPDATE cdc_orders SET amount = 1 WHERE id BETWEEN 10 AND 20')
    job = startJob(url)
    await caughtUp('the changes made while the job was down')
    await job.stop()
  } finally {
    job.kill()
    await c.end()
    // The slot keeps WAL on the server while it exists: dropped once its last reader has let go of it.
    for (let i = 0; i < 100; i++) {
      await setup(url, { teardown: true })
      const left = new pg.Client({ connectionString: url })
      await left.connect()
      const { rows } = await left.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [SLOT])
      await left.end()
      if (rows.length === 0) break
      await sleep(100)
    }
    rmSync(out, { recursive: true, force: true })
  }
})
