import { parseArgs } from 'node:util'
import { z } from 'zod'
import { NexmarkGenerator } from '../../src/connectors/nexmark/generator.ts'
import type { Bid } from '../../src/connectors/nexmark/model.ts'
import { END, type Source, type SourceReader } from '../../src/core/source.ts'
import { contract, type Contract } from '../../src/contracts/contract/define.ts'
import { withContract } from '../../src/contracts/contract/with-contract.ts'

const rules = [
  { field: 'price', rule: 'inRange', min: 1, max: 1e12 },
  { field: 'channel', rule: 'notNull' },
] as const

const contracts: Record<string, Contract<unknown>> = {
  zod: contract({ name: 'bids', rules, schema: z.object({ type: z.literal('bid'), auction: z.number().int(), bidder: z.number().int(), price: z.number().int(), channel: z.string(), url: z.string(), dateTime: z.number().int(), extra: z.string() }) }),
  'json-schema': contract({
    name: 'bids',
    rules,
    schema: {
      type: 'object',
      properties: { type: { const: 'bid' }, auction: { type: 'integer' }, bidder: { type: 'integer' }, price: { type: 'integer' }, channel: { type: 'string' }, url: { type: 'string' }, dateTime: { type: 'integer' }, extra: { type: 'string' } },
      required: ['type', 'auction', 'bidder', 'price', 'channel', 'url', 'dateTime', 'extra'],
    },
  }),
  avro: contract({
    name: 'bids',
    rules,
    schema: { type: 'record', name: 'Bid', fields: [{ name: 'type', type: 'string' }, { name: 'auction', type: 'long' }, { name: 'bidder', type: 'long' }, { name: 'price', type: 'long' }, { name: 'channel', type: 'string' }, { name: 'url', type: 'string' }, { name: 'dateTime', type: 'long' }, { name: 'extra', type: 'string' }] },
  }),
}

/**
 * Validation of Nexmark bids at the edge: batches of generated bids go through a contract's validating reader
 * (the path every record of a source with a contract takes), for a zod, a JSON Schema and an Avro contract
 * with two field rules. One JSON line per contract: records per CPU-second against the target of 2M.
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { records: { type: 'string', default: '5000000' }, batch: { type: 'string', default: '1024' }, format: { type: 'string', default: 'zod,json-schema,avro' } } })
  const total = Number(values.records)
  const batchSize = Number(values.batch)
  const gen = new NexmarkGenerator()
  const bids: Bid[] = []
  for (let n = 0; bids.length < 100_000; n++) {
    const e = gen.event(n)
    if (e.type === 'bid') bids.push(e)
  }
  const target = 2_000_000
  for (const format of String(values.format).split(',')) {
    const c = contracts[format]
    if (c === undefined) throw new Error(`unknown format '${format}'`)
    let invalid = 0
    const reader = await withContract(batches(bids, batchSize), c).open({ pipeline: 'bench', stepId: 'bids', signal: new AbortController().signal, malformed: () => void invalid++, invalid: () => void invalid++ })
    const read = () => reader.read(0, batchSize)
    for (let i = 0; i < 200; i++) read() // warm-up
    const rounds = Math.ceil(total / batchSize)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let n = 0
    for (let i = 0; i < rounds; i++) {
      const b = read()
      if (b !== END && b !== null && !(b instanceof Promise)) n += b.values.length
    }
    const cpu = process.cpuUsage(cpu0)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const wallSeconds = (performance.now() - t0) / 1000
    console.log(JSON.stringify({ bench: 'contract-validation', format, records: n, invalid, batch: batchSize, wallSeconds: round(wallSeconds), cpuSeconds: round(cpuSeconds), recordsPerCpuSecond: Math.round(n / cpuSeconds), target, meetsTarget: n / cpuSeconds >= target }))
  }
}

/** An endless source of batches cut from `bids` in turn (no copy of the records). */
function batches(bids: Bid[], size: number): Source<Bid> {
  let at = 0
  const reader: SourceReader<Bid> = {
    partitions: 1,
    read() {
      if (at + size > bids.length) at = 0
      const values = bids.slice(at, at + size)
      at += size
      return { values, times: [] }
    },
    close() {},
  }
  return { kind: 'bench', bounded: false, options: {}, describe: () => ({}), open: () => reader }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000
}
