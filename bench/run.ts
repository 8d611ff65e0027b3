/**
 * `npm run bench -- <suite> [flags]`: micro (engine hot path), nexmark, nexmark-recovery, log, state, interval-join, checkpoint, privacy, contracts, kafka, kafka-workers, kafka-nexmark, postgres, redis, latency, skew or http. With no suite, runs micro.
 */
const [suite = 'micro', ...rest] = process.argv.slice(2)
const suites: Record<string, string> = {
  micro: './micro/main.ts',
  nexmark: './nexmark/main.ts',
  'nexmark-recovery': './nexmark/recovery.ts',
  log: './log/main.ts',
  state: './state/main.ts',
  'interval-join': './state/interval-join.ts',
  checkpoint: './checkpoint/main.ts',
  privacy: './privacy/main.ts',
  contracts: './contracts/main.ts',
  kafka: './kafka/main.ts',
  'kafka-workers': './kafka/workers.ts',
  'kafka-nexmark': './kafka/nexmark.ts',
  postgres: './postgres/main.ts',
  redis: './redis/main.ts',
  latency: './latency/main.ts',
  skew: './skew/main.ts',
  http: './connectors-http/main.ts',
}
const path = suites[suite]
if (path === undefined) {
  console.error(`unknown bench suite '${suite}'; use one of: ${Object.keys(suites).join(', ')}`)
  process.exit(2)
}
const mod = (await import(path)) as { main(argv: string[]): Promise<void> }
await mod.main(rest)
