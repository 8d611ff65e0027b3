import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { committedParts } from '../../src/connectors/files/part-files.ts'
import { prng } from './crash.ts'

// sink.parquet and sink.duckdb killed with SIGKILL at random moments and inside commits: after restarts
// from the checkpoint folder, every record is in the output exactly once.

const child = fileURLToPath(new URL('./fixtures/db-sinks-child.ts', import.meta.url))
const COUNT = 20_000

function runChild(out: string, chk: string, killAfterMs?: number, failpoint?: string): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.SLUICE_FAILPOINT
    if (failpoint !== undefined) env.SLUICE_FAILPOINT = failpoint
    const p = spawn(process.execPath, [child, out, chk, String(COUNT)], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d) => (stderr += d))
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs)
    const guard = setTimeout(() => p.kill('SIGKILL'), 120_000)
    p.on('error', reject)
    p.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      clearTimeout(guard)
      resolve({ code, signal, stderr })
    })
  })
}

async function check(out: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    const one = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson()[0]
    const files = (await committedParts(join(out, 'parquet'), 'parquet')).map((f) => `'${f}'`).join(', ')
    const all = `count(*) AS rows, count(DISTINCT n) AS distinct_n, min(n) AS lo, max(n) AS hi`
    const expected = { rows: String(COUNT), distinct_n: String(COUNT), lo: '0', hi: String(COUNT - 1) }
    assert.deepEqual(await one(`SELECT ${all} FROM read_parquet([${files}])`), expected, 'parquet')
    await c.run(`ATTACH '${join(out, 'db.duckdb')}' AS out (READ_ONLY)`)
    assert.deepEqual(await one(`SELECT ${all} FROM out.rows`), expected, 'duckdb')
    // Keyed by n % 100: the last record of each key wins.
    assert.deepEqual(await one(`SELECT count(*) AS rows, min(n) AS lo, max(n) AS hi FROM out.keyed`), { rows: '100', lo: String(COUNT - 100), hi: String(COUNT - 1) })
  } finally {
    c.closeSync()
    db.closeSync()
  }
}

for (const [name, first] of [
  ['random kills', { seed: 5 }],
  ['a kill inside a sink commit', { failpoint: 'sink-commit:4' }],
  ['a kill between the manifest and the commits', { failpoint: 'checkpoint-before-commit:2' }],
] as const) {
  test(`parquet and duckdb sinks, ${name}: every record exactly once`, async () => {
    const base = await mkdtemp(join(tmpdir(), 'sluice-db-crash-'))
    try {
      const rnd = prng('seed' in first ? first.seed : 1)
      let left = 'seed' in first ? 4 : 0
      const nextKill = () => (left-- > 0 ? 150 + Math.floor(rnd() * 600) : undefined)
      let kills = 0
      let opts: { kill?: number; failpoint?: string } = 'failpoint' in first ? { failpoint: first.failpoint } : { kill: nextKill() }
      for (;;) {
        const r = await runChild(join(base, 'out'), join(base, 'chk'), opts.kill, opts.failpoint)
        if (r.code === 0) break
        assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
        kills++
        opts = { kill: nextKill() }
      }
      assert.ok(kills >= 1, 'the child was never killed')
      await check(join(base, 'out'))
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
}
