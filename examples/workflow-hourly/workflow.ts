// An hourly partitioned workflow: take the hour's file from out/drop/, count views per page with a Sluice
// pipeline that checks the views' quality, gate on its quality results and counts, publish them to
// out/views.duckdb. Five past each hour it runs the hour that just ended; a backfill rebuilds any range with the
// same pipeline:
//   npx sluice workflow backfill examples/workflow-hourly/workflow.ts --from 2026-01-01T00 --to 2026-01-07T23 --store examples/workflow-hourly/out/runs.db
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { TransientError, type QualityResult } from 'sluice'
import { cron, fnTask, hourly, pipelineTask, workflow } from 'sluice/workflow'
import pageViews from './pipeline.ts'

const out = (file: string) => fileURLToPath(new URL(`out/${file}`, import.meta.url))
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0)

export default workflow('hourly-page-views', { partitions: hourly('2026-01-01'), schedule: cron('5 * * * *'), concurrency: 4 })
  // The upstream drop may be late: a missing file is a transient failure, retried with backoff.
  .task(
    'ingest',
    fnTask(({ partition }) => {
      if (!existsSync(out(`drop/${partition}.jsonl`))) throw new TransientError(`no drop file for ${partition} yet`)
      mkdirSync(out('in'), { recursive: true })
      copyFileSync(out(`drop/${partition}.jsonl`), out(`in/${partition}.jsonl`))
    }),
    { retry: { retries: 5, baseMs: 60_000 } },
  )
  .task('aggregate', pipelineTask(pageViews), { dependsOn: ['ingest'], timeoutMs: 10 * 60_000 })
  // The quality gate before publishing: the pipeline's expectations all passed (an hour without views fails its
  // row count), and every view is counted once: the counts add up to the hour's lines.
  .task(
    'check',
    fnTask(({ partition }) => {
      const results = lines(out(`quality/${partition}.jsonl`)).map((l) => JSON.parse(l) as QualityResult)
      if (results.length === 0) throw new Error(`no quality results for ${partition}: did the pipeline run?`)
      const failed = results.filter((r) => !r.passed).map((r) => `${r.expectation} (${r.failed} of ${r.checked})`)
      if (failed.length > 0) throw new Error(`expectations failed in ${partition}: ${failed.join(', ')}`)
      const views = lines(out(`in/${partition}.jsonl`)).length
      const counted = lines(out(`agg/${partition}.jsonl`)).reduce((n, l) => n + (JSON.parse(l) as { views: number }).views, 0)
      if (counted !== views) throw new Error(`counted ${counted} views in ${partition}, the input has ${views}`)
    }),
    { dependsOn: ['aggregate'] },
  )
  // One writer at a time into the DuckDB file; replacing the hour's rows makes a rerun idempotent.
  .task(
    'publish',
    fnTask(async ({ partition }) => {
      const db = await DuckDBInstance.create(out('views.duckdb'))
      const c = await db.connect()
      try {
        await c.run('CREATE TABLE IF NOT EXISTS page_views (hour VARCHAR, page VARCHAR, views BIGINT)')
        await c.run('BEGIN TRANSACTION')
        await c.run('DELETE FROM page_views WHERE hour = $1', [partition])
        await c.run(`INSERT INTO page_views SELECT hour, page, views FROM read_json('${out(`agg/${partition}.jsonl`)}', format = 'newline_delimited', columns = {hour: 'VARCHAR', page: 'VARCHAR', views: 'BIGINT'})`)
        await c.run('COMMIT')
      } finally {
        c.closeSync()
        db.closeSync()
      }
    }),
    { dependsOn: ['check'], concurrency: 1 },
  )
