/**
 * CPU per record crossing threads, measured in one thread (so a loaded machine's scheduling does not count):
 * `codec` encodes and decodes each batch, `post` also carries it through a MessagePort, `clone` posts the
 * records as they are (structured clone, without the codec). `--shape` picks the records: `bid` (whole Nexmark
 * bids, 470 a batch), `q4` (the three number fields of a bid that q4 sends to its join, 470 a batch) or
 * `partial` (a window combiner's partials as q5 sends them, 100 a batch).
 * Usage: node bench/nexmark/exchange.ts [--shape bid|q4|partial] [codec|post|clone]...
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { NexmarkGenerator, isBid, type NexmarkEvent } from '../../src/connectors/nexmark/index.ts'
import type { Batch } from '../../src/core/batch.ts'
import { decodeBatch, encodeBatch } from '../../src/runtime/executor/batch-codec.ts'
import { WindowPartial } from '../../src/operators/window/combiner.ts'

const args = process.argv.slice(2)
const at = args.indexOf('--shape')
const shape = at >= 0 ? args.splice(at, 2)[1] : 'bid'
const g = new NexmarkGenerator()
const batches: Batch[] = []
for (let k = 0; k < 200; k++) {
  const events: NexmarkEvent[] = []
  g.fill(events, k * 512, 1, 512)
  const bids = events.filter(isBid)
  const times = bids.map((b) => b.dateTime)
  const keys = bids.map((b) => b.auction)
  if (shape === 'q4') batches.push({ values: bids.map((b) => ({ auction: b.auction, price: b.price, dateTime: b.dateTime })), times, keys })
  else if (shape === 'partial') {
    const start = Math.floor(times[0] / 2000) * 2000
    const values = bids.slice(0, 100).map((b, i) => Object.assign(new WindowPartial(b.auction, start, start + 2000, 1 + (i % 3), b.dateTime, true), { n: 1 + (i % 3), maxTs: b.dateTime + 7 }))
    batches.push({ values, times: times.slice(0, 100), keys: keys.slice(0, 100) })
  } else if (shape === 'bid') batches.push({ values: bids, times, keys })
  else throw new Error(`unknown shape '${shape}': use bid, q4 or partial`)
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

for (const mode of args.length > 0 ? args : ['codec', 'post', 'clone']) {
  for (let i = 0; i < 20; i++) round(mode)
  const c0 = process.cpuUsage()
  let n = 0
  for (let i = 0; i < 50; i++) n += round(mode)
  const c = process.cpuUsage(c0)
  console.log(JSON.stringify({ shape, mode, records: n, cpuMicrosPerRecord: Number(((c.user + c.system) / n).toFixed(3)) }))
}
port1.close()
