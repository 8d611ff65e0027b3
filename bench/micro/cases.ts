import { agg, pipeline, sink, source, watermark, window, type Pipeline } from '../../src/index.ts'

export interface MicroCase {
  name: string
  /** The target in events per CPU-second, from the issue that set it. */
  target: number
  build(events: number): Pipeline
}

interface Ev {
  id: number
  user: number
  price: number
  ts: number
}

const events = (n: number, keys: number) =>
  source.generator<Ev>({
    count: n,
    // 100 events per millisecond of event time: a 10 s window holds 1M events, about 100 per key.
    make: (g) => ({ id: g.seq, user: g.int(keys), price: g.int(10_000), ts: 1_700_000_000_000 + Math.floor(g.seq / 100) }),
    eventTime: (e) => e.ts,
    watermark: watermark.boundedOutOfOrder('1s'),
  })

export const cases: MicroCase[] = [
  {
    name: 'stateless-chain-3',
    target: 3_000_000,
    build: (n) =>
      pipeline('bench-stateless')
        .from(events(n, 10_000))
        .map((e) => ({ id: e.id, user: e.user, euros: e.price * 0.908, ts: e.ts }))
        .filter((e) => e.euros > 100)
        .map((e) => e.user)
        .to(sink.blackhole()).pipeline,
  },
  {
    name: 'keyed-tumbling-count-10k',
    target: 1_500_000,
    build: (n) =>
      pipeline('bench-tumbling')
        .from(events(n, 10_000))
        .keyBy((e) => e.user)
        .window(window.tumbling({ size: '10s' }))
        .aggregate(agg.count())
        .to(sink.blackhole()).pipeline,
  },
]
