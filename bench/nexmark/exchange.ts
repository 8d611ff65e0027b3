/**
 * CPU per Nexmark bid crossing threads, measured in one thread (so a loaded machine's scheduling does not
 * count): `codec` encodes and decodes each batch, `post` also carries it through a MessagePort, `clone` posts
 * the records as they are (structured clone, without the codec).
 * Usage: node bench/nexmark/exchange.ts [codec|post|clone]...
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { NexmarkGenerator, isBid, type NexmarkEvent } from '../../src/connectors/nexmark/index.ts'
import type { Batch } from '../../src/core/batch.ts'
import { decodeBatch, encodeBatch } from '../../src/runtime/executor/batch-codec.ts'

const g = new NexmarkGenerator()
const batches: Batch[] = []
for (let k = 0; k < 200; k++) {
  const events: NexmarkEvent[] = []
  g.fill(events, k * 512, 1, 512)
  const bids = events.filter(isBid)
  batches.push({ values: bids, times: bids.map((b) => b.dateTime), keys: bids.map((b) => b.auction) })
}
const { port1, port2 } = new MessageChannel()

function round(mode: string): number {
  let n = 0
  for (const b of batches) {
    if (mode === 'codec') decodeBatch(encodeBatch(b))
    else if (mode === 'post') {
      port1.postMessage(encodeBatch(b))
      decodeBatch(receiveMessageOnPort(port2)!.message as ReturnType<typeof encodeBatch>)
    } else {
      port1.postMessage(b)
      receiveMessageOnPort(port2)
    }
    n += b.values.length
  }
  return n
}

for (const mode of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['codec', 'post', 'clone']) {
  for (let i = 0; i < 20; i++) round(mode)
  const c0 = process.cpuUsage()
  let n = 0
  for (let i = 0; i < 50; i++) n += round(mode)
  const c = process.cpuUsage(c0)
  console.log(JSON.stringify({ mode, records: n, cpuMicrosPerRecord: Number(((c.user + c.system) / n).toFixed(3)) }))
}
port1.close()
