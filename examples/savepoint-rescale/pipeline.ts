// A job stopped with a savepoint and resumed at another parallelism: purchases per user and minute from
// a rate-limited generator (100,000 purchases, about 10 s of input), to Parquet part files.
//   npx sluice run examples/savepoint-rescale/pipeline.ts --checkpoint-dir examples/savepoint-rescale/out/chk
//   npx sluice savepoint examples/savepoint-rescale/out/chk examples/savepoint-rescale/out/savepoint --stop
//   npx sluice run examples/savepoint-rescale/pipeline.ts --checkpoint-dir examples/savepoint-rescale/out/chk2 \
//     --restore-from examples/savepoint-rescale/out/savepoint --parallelism 4
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, window, type PipelineFactory } from 'sluice'

interface Purchase {
  user: string
  cents: number
  /** Event time: one purchase every 60 ms of event time. */
  ts: number
}

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

const build: PipelineFactory = ({ params }) => {
  const p = pipeline('savepoint-rescale')
  p.from(
    source.generator<Purchase>({
      count: 100_000,
      ratePerSecond: 10_000,
      partitions: 2,
      // Deterministic: purchase `seq` is the same in every run, whatever was stopped and resumed.
      make: (g) => ({ user: `u${g.int(40)}`, cents: 100 + g.int(9900), ts: g.seq * 60 }),
      eventTime: (e) => e.ts,
    }),
  )
    .keyBy((e) => e.user)
    .window(window.tumbling({ size: '1m' }))
    .aggregate(agg.fields({ purchases: agg.count(), cents: agg.sum((e: Purchase) => e.cents) }))
    .id('per-user-minute')
    .map((w) => ({ user: w.key, minute: w.start, purchases: w.value.purchases, cents: w.value.cents }))
    .to(sink.parquet(here(params.out ?? 'out/totals'), { schema: { user: 'string', minute: 'int64', purchases: 'int64', cents: 'int64' } }))
  return p
}
export default build
