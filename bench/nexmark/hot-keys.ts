/**
 * CPU per record of a keyed step's hot-key sketch, fed the auction ids of Nexmark bids in batches as the runtime
 * feeds it: `exact` counts every key, `sampled` counts one in 8 after the first 65,536 (the runtime's setting).
 * Measured in one thread, best of five rounds.
 * Usage: node bench/nexmark/hot-keys.ts [exact|sampled]...
 */
import { NexmarkGenerator, isBid, type NexmarkEvent } from '../../src/connectors/nexmark/index.ts'
import { SpaceSaving } from '../../src/observe/hot-keys/space-saving.ts'

const g = new NexmarkGenerator()
const batches: number[][] = []
for (let k = 0; k < 400; k++) {
  const events: NexmarkEvent[] = []
  g.fill(events, k * 512, 1, 512)
  batches.push(events.filter(isBid).map((b) => b.auction))
}

const make = (mode: string): SpaceSaving<number> => (mode === 'exact' ? new SpaceSaving<number>(64) : new SpaceSaving<number>(64, { exactFor: 65_536, every: 8 }))

for (const mode of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['exact', 'sampled']) {
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const sketch = make(mode)
    const c0 = process.cpuUsage()
    let n = 0
    for (let i = 0; i < 10; i++) {
      for (const b of batches) {
        sketch.offerBatch(b)
        n += b.length
      }
    }
    const c = process.cpuUsage(c0)
    best = Math.min(best, ((c.user + c.system) * 1000) / n)
  }
  console.log(JSON.stringify({ mode, cpuNanosPerRecord: Math.round(best) }))
}
