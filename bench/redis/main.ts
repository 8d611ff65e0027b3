/**
 * `npm run bench -- redis [--records N]`: lookups per second through `.lookup(lookup.redis(...))` against a
 * local Redis, without a cache (every distinct key of a batch goes to Redis, pipelined) and with a cache
 * that answers most keys (1,000 hot keys). Needs `npm run services -- redis`.
 */
import { Redis } from 'ioredis'
import { lookup, pipeline, run, sink, source } from '../../src/index.ts'
import { serviceOrSkip } from '../../test/support/services.ts'

const KEYS = 100_000
const HOT = 1_000

async function seed(url: string): Promise<void> {
  const r = new Redis(url)
  const p = r.pipeline()
  for (let i = 0; i < KEYS; i++) p.set(`bench:price:${i}`, String(i % 997))
  await p.exec()
  await r.quit()
}

async function measure(url: string, n: number, keyOf: (i: number) => number, cache: boolean): Promise<number> {
  const p = pipeline('bench-lookup', { batchSize: 512 })
  p.from(source.collection(Array.from({ length: n }, (_, i) => i)))
    .lookup(lookup.redis({ url, prefix: 'bench:price:' }), { key: keyOf, concurrency: 256, ...(cache ? { cache: { ttl: '10m', max: 10_000 } } : {}) })
    .to(sink.blackhole())
  const start = performance.now()
  await run(p)
  return Math.round(n / ((performance.now() - start) / 1000))
}

export async function main(argv: string[]): Promise<void> {
  const service = serviceOrSkip('redis')
  if (service.skip !== false) {
    console.error(service.skip)
    process.exitCode = 2
    return
  }
  const url = String(service.info!.url)
  const i = argv.indexOf('--records')
  const n = i >= 0 ? Number(argv[i + 1]) : 200_000
  await seed(url)
  const spread = (k: number) => (k * 7919) % KEYS
  const cold = await measure(url, n, spread, false)
  const hot = await measure(url, n, (k) => spread(k) % HOT, true)
  console.log(`records: ${n}, batch 512, concurrency 256`)
  console.log(`no cache, ${KEYS.toLocaleString('en')} keys:        ${cold.toLocaleString('en')} records/s (one Redis GET per record, auto-pipelined)`)
  console.log(`cache, ${HOT.toLocaleString('en')} hot keys (hits):   ${hot.toLocaleString('en')} records/s`)
}

if (import.meta.main) await main(process.argv.slice(2))
