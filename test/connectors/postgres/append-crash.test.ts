import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prng, runChild } from '../../checkpoint/crash.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

// sink.postgres as on a server without prepared transactions (rows staged, and copied into the table in a
// transaction left open until the checkpoint completes), killed with SIGKILL at random records and inside
// commits: after restarts from the checkpoint folder, the table holds every record exactly once.

const child = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url))
const COUNT = 40_000

for (const [name, first] of [
  ['random kills', { seed: 31 }],
  ['a kill right after a sink commit', { failpoint: 'sink-commit:3' }],
  ['a kill between the manifest and the commits', { failpoint: 'checkpoint-before-commit:3' }],
] as const) {
  test(`append-only Postgres without prepared transactions, ${name}: every record exactly once`, { skip: pgService.skip, timeout: 300_000 }, async () => {
    const schema = await freshSchema('append_crash')
    const dir = await mkdtemp(join(tmpdir(), 'sluice-pg-append-crash-'))
    try {
      const rnd = prng('seed' in first ? first.seed : 1)
      let kills = 0
      for (let round = 0; ; round++) {
        // Random kills: one in each sixth of the input, so each run gets past a checkpoint or more first.
        const killAt = 'seed' in first && round < 5 ? Math.floor(((round + 1) * COUNT) / 6 + rnd() * (COUNT / 12)) : undefined
        const r = await runChild('', dir, { child, args: [pgUrl(), schema, dir, String(COUNT), ...(killAt !== undefined ? [String(killAt)] : [])], ...(round === 0 && 'failpoint' in first ? { failpoint: first.failpoint } : {}) })
        if (r.code === 0) break
        assert.equal(r.signal, 'SIGKILL', `the child failed instead of being killed: ${r.stderr}`)
        kills++
      }
      assert.ok(kills >= 1, 'the child was never killed')
      const [got] = await sql(`SELECT count(*)::int AS rows, count(DISTINCT n)::int AS distinct_n, min(n)::int AS lo, max(n)::int AS hi FROM ${schema}.rows`)
      assert.deepEqual(got, { rows: COUNT, distinct_n: COUNT, lo: 0, hi: COUNT - 1 })
      const tables = await sql(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND starts_with(table_name, '_sluice_staging_')`, [schema])
      assert.equal(tables.length, 1)
      const [staged] = await sql(`SELECT count(*)::int AS n FROM ${schema}."${String(tables[0].table_name)}"`)
      assert.equal(staged.n, 0, 'nothing is left staged')
    } finally {
      await rm(dir, { recursive: true, force: true })
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    }
  })
}
