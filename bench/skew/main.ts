/**
 * Hot keys at a keyed exchange: `npm run bench -- skew [--events 2000000] [--parallelism 2] [--zipf 2]
 * [--rounds 1] [--window] [--variants plain,auto,combine,salt]`. Counts bids per auction where auctions follow a Zipf law (most bids on one auction),
 * as a plain keyed aggregate (`{ combine: false }`), with the default combiner (`'auto'`: folds at parallelism > 1),
 * with one that always folds (`{ combine: true }`) and with the key salted (`{ salt: 4 }`), interleaved; with
 * `--window`, per auction and 10 s tumbling window, plain, auto and combined. One
 * JSON line per run: events per wall-second and per CPU-second, and how many records reached the aggregate.
 */
import { parseArgs } from 'node:util'
import { run } from '../../src/index.ts'
import { build } from './pipeline.ts'

const module = new URL('./pipeline.ts', import.meta.url).href

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { events: { type: 'string', default: '2000000' }, parallelism: { type: 'string', default: '2' }, zipf: { type: 'string', default: '2' }, rounds: { type: 'string', default: '1' }, window: { type: 'boolean', default: false }, variants: { type: 'string' } } })
  const parallelism = Number(values.parallelism)
  const windowed = values.window === true
  const base = { events: values.events!, zipf: values.zipf!, partitions: String(parallelism), window: String(windowed) }
  const variants = values.variants?.split(',') ?? (windowed ? ['plain', 'auto', 'combine'] : ['plain', 'auto', 'combine', 'salt'])
  const target = windowed ? 'window-aggregate-1' : 'keyed-aggregate-1'
  // Warm-up: every variant once, on a tenth of the events.
  for (const variant of variants) {
    const params = { ...base, events: String(Math.ceil(Number(base.events) / 10)), variant }
    await run(build(params), { parallelism, module, params })
  }
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const variant of variants) {
      const params = { ...base, variant }
      const s = await run(build(params), { parallelism, module, params })
      const aggregate = s.steps.find((x) => x.step === target)
      const events = Number(base.events)
      console.log(JSON.stringify({ variant, window: windowed, parallelism, zipf: Number(base.zipf), events, wallSeconds: +(s.wallMs / 1000).toFixed(3), eventsPerWallSecond: Math.round(events / (s.wallMs / 1000)), eventsPerCpuSecond: Math.round(events / (s.cpuMs / 1000)), aggregateRecordsIn: aggregate?.in }))
    }
  }
}
