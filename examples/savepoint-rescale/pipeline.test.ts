// Runs the README's commands: start with checkpoints, stop with a savepoint midway, resume from it at
// parallelism 4; the rows written across both runs are those of one run straight through.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const rel = 'examples/savepoint-rescale'

function sluice(...args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/sluice.js', ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, `sluice ${args.join(' ')}: ${r.stderr}`)
  return r.stdout + r.stderr
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

test('savepoint-rescale: stopped midway by a savepoint, resumed at parallelism 4, the output of one straight run', async () => {
  rmSync(out, { recursive: true, force: true })
  // --no-check: the job must still be running when the savepoint is asked for; its check is another test's.
  const job = spawn(process.execPath, ['bin/sluice.js', 'run', `${rel}/pipeline.ts`, '--no-check', '--quiet', '--checkpoint-dir', `${rel}/out/chk`, '--checkpoint-interval', '500ms'], { cwd: root })
  let stderr = ''
  job.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => job.on('close', resolve))
  const guard = setTimeout(() => job.kill('SIGKILL'), 120_000)
  try {
    // Midway: once a checkpoint has committed rows (the first checkpoint of a slow start may come before any
    // window closed), and well before the generator's 10 s of input end.
    const committed = () => existsSync(`${out}totals`) && readdirSync(`${out}totals`).some((f) => f.endsWith('.parquet'))
    while (!committed()) await sleep(50)
    assert.match(sluice('savepoint', `${rel}/out/chk`, `${rel}/out/savepoint`, '--stop'), /savepoint \d+ written/)
    assert.equal(await exited, 0, stderr)
  } finally {
    clearTimeout(guard)
  }
  const [{ partial }] = await query(`SELECT count(*)::INT AS partial FROM read_parquet('${out}totals/*.parquet')`)

  assert.match(sluice('run', `${rel}/pipeline.ts`, '--checkpoint-dir', `${rel}/out/chk2`, '--restore-from', `${rel}/out/savepoint`, '--parallelism', '4'), /resumed from #\d+/)
  sluice('run', `${rel}/pipeline.ts`, '--quiet', '--param', 'out=out/straight', '--checkpoint-dir', `${rel}/out/chk3`, '--checkpoint-interval', '0')

  const both = `read_parquet('${out}totals/*.parquet')`
  const straight = `read_parquet('${out}straight/*.parquet')`
  const [{ rows, purchases }] = await query(`SELECT count(*)::INT AS rows, sum(purchases)::INT AS purchases FROM ${straight}`)
  assert.equal(purchases, 100_000)
  assert.ok((partial as number) > 0 && (partial as number) < (rows as number), 'the savepoint was taken midway')
  assert.deepEqual(await query(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${both} EXCEPT ALL SELECT * FROM ${straight})`), [{ n: 0 }])
  assert.deepEqual(await query(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${straight} EXCEPT ALL SELECT * FROM ${both})`), [{ n: 0 }])
})
