// sink.postgres's retries metric: a connection the server ends while the sink is idle (here by
// pg_terminate_backend) is replaced before the next statement, the rows still arrive, and the step counts it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pipeline, sink, start } from '../../../src/index.ts'
import { pausingSource } from '../../support/pausing-source.ts'
import { freshSchema, pgService, pgUrl, sql } from './pg-test-support.ts'

const skip = pgService.skip

test("a connection lost while idle is opened again: the rows arrive and the step's retries count it", { skip }, async () => {
  const schema = await freshSchema('retries')
  const name = `pg-retries-${process.pid}`
  // The sink's connection names its pipeline and step (application_name): only this test's is ended.
  const app = `sluice ${name}/sink-postgres-1`
  const kill = async () => {
    // The sink may still be opening when the source reads: wait for its connection.
    let pids: Record<string, unknown>[] = []
    for (let i = 0; pids.length === 0; i++) {
      if (i === 200) assert.fail(`no connection named ${app}: ${JSON.stringify(await sql("SELECT application_name, state FROM pg_stat_activity WHERE application_name LIKE 'sluice%'"))}`)
      pids = await sql('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [app])
    }
    await sql('SELECT pg_terminate_backend($1)', [pids[0].pid])
    while ((await sql('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pids[0].pid])).length > 0);
  }
  const p = pipeline(name, { batchSize: 10 })
  p.from(pausingSource(200, 5, kill)).to(sink.postgres({ url: pgUrl(), schema, table: 'items' }))
  const job = start(p)
  assert.equal((await job.done).status, 'finished')
  const [{ n }] = await sql(`SELECT count(DISTINCT id)::int AS n FROM ${schema}.items`)
  assert.equal(n, 200)
  const step = job.metrics().steps.find((t) => t.kind === 'sink-postgres')
  assert.ok(step !== undefined, job.metrics().steps.map((t) => t.kind).join(', '))
  assert.equal(step.retries, 1)
})
