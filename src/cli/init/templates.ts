// The files of a project made by `sluice init`: a pipeline over bundled sample data, its test, and the
// configuration to run and type-check both. Kept as plain text so the package needs no template folder.

/** Sample orders: three countries over three hours, out of order by up to a minute, one malformed row. */
function ordersCsv(): string {
  const rows = ['id,country,amount,time']
  const countries = ['FR', 'DE', 'NL']
  for (let i = 0; i < 60; i++) {
    const minute = i * 3 + (i % 4 === 1 ? -1 : 0) // every fourth order arrives a minute late
    const t = new Date(Date.UTC(2024, 4, 1, 9, 0, 30) + minute * 60_000).toISOString()
    const amount = ((i * 37) % 90) + 10 + (i % 2 === 0 ? 0.5 : 0)
    rows.push(i === 17 ? `o${i},DE,twelve,${t}` : `o${i},${countries[i % 3]},${amount},${t}`)
  }
  return rows.join('\n') + '\n'
}

const pipelineTs = `// Revenue per country and hour from data/orders.csv, in event time.
//   npx sluice run pipeline.ts    writes out/revenue.jsonl, and out/errors.jsonl for malformed rows
import { agg, pipeline, sink, source, watermark, window, type Stream } from 'sluice'

export interface Order {
  id: string
  country: string
  amount: number
  /** When the order was placed (ISO 8601): its event time. */
  time: string
}

export interface Revenue {
  country: string
  hour: string
  orders: number
  revenue: number
}

/** The pipeline's logic, on any stream of orders. */
export function revenuePerHour(orders: Stream<Order>): Stream<Revenue> {
  return orders
    .keyBy((o) => o.country)
    .window(window.tumbling({ size: '1h' }))
    .aggregate(agg.fields({ orders: agg.count(), revenue: agg.sum((o: Order) => o.amount) }))
    .map((w) => ({ country: w.key, hour: new Date(w.start).toISOString(), orders: w.value.orders, revenue: w.value.revenue }))
}

// A row that does not parse goes to the errors stream instead of stopping the job.
const p = pipeline('revenue-per-hour', { onError: 'error-output' })

const orders = p
  .from(
    source.csv<Order>('data/orders.csv', {
      types: { amount: 'number' },
      eventTime: (o) => Date.parse(o.time),
      // Orders may arrive up to a minute out of order.
      watermark: watermark.boundedOutOfOrder('1m'),
    }),
  )
  .id('orders')
revenuePerHour(orders).to(sink.jsonl('out/revenue.jsonl'), { id: 'revenue' })

p.errors()
  .map((e) => ({ step: e.step, position: e.position, error: e.error }))
  .to(sink.jsonl('out/errors.jsonl'))

export default p
`

const testTs = `// The harness runs the pipeline as \`sluice run\` does, with its CSV source replaced by an input the test
// pushes orders into ('orders', the source's id) and what its sinks receive recorded ('revenue'). Event
// times come from the pipeline's eventTime; the watermark moves only when the test moves it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PipelineHarness } from 'sluice/testing'
import revenue, { type Order, type Revenue } from '../pipeline.ts'

const order = (id: string, country: string, amount: number, time: string): Order => ({ id, country, amount, time: \`2024-05-01T\${time}Z\` })
const at = (time: string): number => Date.parse(\`2024-05-01T\${time}Z\`)
const byHourAndCountry = (rows: Revenue[]): Revenue[] => rows.toSorted((x, y) => (x.hour + x.country).localeCompare(y.hour + y.country))

test("an hour's revenue per country comes out once the watermark passes the hour, whatever the arrival order", async () => {
  const h = await PipelineHarness.start(revenue)
  try {
    await h.pushValues('orders', [
      order('a', 'FR', 10, '09:10:00'),
      order('b', 'DE', 5, '09:20:00'),
      order('c', 'FR', 2.5, '10:05:00'),
      order('d', 'FR', 1, '09:59:59'), // arrives after a 10:xx order, still counts for 09:00
    ])
    assert.deepEqual(h.values('revenue'), [], 'no hour is complete before the watermark says so')

    await h.watermark(at('10:00:00'))
    assert.deepEqual(byHourAndCountry(h.values<Revenue>('revenue')), [
      { country: 'DE', hour: '2024-05-01T09:00:00.000Z', orders: 1, revenue: 5 },
      { country: 'FR', hour: '2024-05-01T09:00:00.000Z', orders: 2, revenue: 11 },
    ])
  } finally {
    await h.close()
  }
})

test('a job restored from a snapshot goes on where it was', async () => {
  const before = await PipelineHarness.start(revenue)
  await before.pushValues('orders', [order('a', 'FR', 10, '09:10:00')])
  const snapshot = await before.snapshot()
  await before.close()

  const after = await PipelineHarness.start(revenue, { restore: snapshot })
  try {
    await after.pushValues('orders', [order('b', 'FR', 4, '09:40:00')])
    await after.watermark(at('10:00:00'))
    assert.deepEqual(after.values('revenue'), [{ country: 'FR', hour: '2024-05-01T09:00:00.000Z', orders: 2, revenue: 14 }])
  } finally {
    await after.close()
  }
})
`

const tsconfig = {
  compilerOptions: {
    target: 'es2024',
    lib: ['es2024'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    skipLibCheck: true,
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'out'],
}

function readme(name: string): string {
  return `# ${name}

A [Sluice](https://www.npmjs.com/package/sluice) pipeline: revenue per country and hour from
\`data/orders.csv\`, in event time.

\`\`\`sh
npx sluice run pipeline.ts    # writes out/revenue.jsonl (and out/errors.jsonl: the malformed row)
npm test                      # runs test/pipeline.test.ts
\`\`\`

\`sluice run\` type-checks the pipeline first (\`npx sluice check pipeline.ts\` does only that). The test
runs the pipeline in \`PipelineHarness\` (from \`sluice/testing\`): it pushes orders into the source's place,
moves the watermark, reads what the sink received, and restores a snapshot; no files, and time under the
test's control. Node 22.18 or later runs the TypeScript files as they are.
`
}

/** The files of a new project named `name`, depending on Sluice `version`: path -> content. */
export function projectFiles(name: string, version: string): Record<string, string> {
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      start: 'sluice run pipeline.ts',
      check: 'sluice check pipeline.ts',
      test: 'node --test "test/**/*.test.ts"',
    },
    dependencies: { sluice: `^${version}` },
  }
  return {
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'pipeline.ts': pipelineTs,
    'data/orders.csv': ordersCsv(),
    'test/pipeline.test.ts': testTs,
    'README.md': readme(name),
    '.gitignore': 'node_modules/\nout/\n',
  }
}
