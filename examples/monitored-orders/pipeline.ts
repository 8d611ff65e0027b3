// A monitored pipeline: orders per region every 10 seconds, with its service level objectives declared
// beside the code. The rules and the dashboard in this folder are generated from them:
//   npx sluice slo rules examples/monitored-orders/pipeline.ts -o examples/monitored-orders/rules.yml
//   npx sluice slo dashboard examples/monitored-orders/pipeline.ts -o examples/monitored-orders/dashboard.json
// Run it with metrics for Prometheus on http://127.0.0.1:9464/metrics (Ctrl-C to stop):
//   npx sluice run examples/monitored-orders/pipeline.ts --metrics-port 9464
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { agg, pipeline, sink, source, watermark, window, type PipelineFactory } from 'sluice'

export interface Order {
  id: number
  region: string
  amount: number
  /** When the order was placed, epoch ms. */
  ts: number
}

const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))
const REGIONS = ['eu', 'us', 'apac']

const build: PipelineFactory = ({ params }) => {
  const p = pipeline('orders', {
    onError: 'dead-letter',
    deadLetter: { dir: here('out/log') },
    slo: {
      // The totals are at most 30 s behind the orders 99% of the time,
      freshness: { objective: 0.99, threshold: '30s' },
      // 99.9% of orders are written within half a second of being read,
      latency: { objective: 0.999, threshold: '500ms' },
      // 99.99% of orders count (neither too late for their window nor dead-lettered),
      completeness: { objective: 0.9999 },
      // and the validation fails on at most 0.1% of them.
      errors: { objective: 0.999 },
    },
  })
  p.from(
    source.generator<Order>({
      // Orders happen now: their event time is the time they are made.
      make: (g) => ({ id: g.seq, region: REGIONS[g.int(REGIONS.length)], amount: g.int(20_000) - 10, ts: Date.now() }),
      ratePerSecond: Number(params.rate ?? 200),
      ...(params.count !== undefined ? { count: Number(params.count) } : {}),
      eventTime: (o) => o.ts,
      watermark: watermark.boundedOutOfOrder('2s'),
    }),
  )
    .map((o) => {
      // A refund in the order stream is a bug upstream: it goes to the dead-letter log, counted.
      if (o.amount < 0) throw new Error('an order amount is negative')
      return o
    })
    .id('validate')
    .keyBy((o) => o.region)
    .window(window.tumbling({ size: '10s' }))
    .aggregate(agg.fields({ orders: agg.count(), cents: agg.sum((o: Order) => o.amount) }))
    .id('per-region')
    .map((w) => ({ region: w.key, start: new Date(w.start).toISOString(), ...w.value }))
    .to(sink.jsonl(here('out/per-region.jsonl')))
  return p
}
export default build
