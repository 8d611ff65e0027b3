/**
 * Hot keys at a keyed exchange: `npm run bench -- skew [--events 2000000] [--parallelism 2] [--zipf 2]
 * [--rounds 1]`. Counts bids per auction where auctions follow a Zipf law (most bids on one auction), once as
 * a plain keyed aggregate and once with the combiner (`aggregate(fn, { combine: true })`), interleaved. One JSON
 * line per run: events per wall-second and per CPU-second, and how many records reached the aggregate.
 */
import { parseArgs } from 'node:util'
import { run } from '../../src/index.ts'
import { build } from './pipeline.ts'

const module = new URL('./pipeline.ts', import.meta.url).href

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { events: { type: 'string', default: '2000000' }, parallelism: { type: 'string', default: '2' }, zipf: { type: 'string', default: '2' }, rounds: { type: 'string', default: '1' } } })
  const parallelism = Number(values.parallelism)
  const base = { events: values.events!, zipf: values.zipf!, partitions: String(parallelism) }
  // Warm-up: both variants once, on a tenth of the events.
  for (const combine of ['false', 'true']) {
    const params = { ...base, events: String(Math.ceil(Number(base.events) / 10)), combine }
    await run(build(params), { parallelism, module, params })
  }
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const combine of ['false', 'true']) {
      const params = { ...base, combine }
      const s = await run(build(params), { parallelism, module, params })
      const aggregate = s.steps.find((x) => x.step === 'keyed-aggregate-1')
      const events = Number(base.events)
      console.log(JSON.stringify({ combine: combine === 'true', parallelism, zipf: Number(base.zipf), events, wallSeconds: +(s.wallMs / 1000).toFixed(3), eventsPerWallSecond: Math.round(events / (s.wallMs / 1000)), eventsPerCpuSecond: Math.round(events / (s.cpuMs / 1000)), aggregateRecordsIn: aggregate?.in }))
    }
  }
}
