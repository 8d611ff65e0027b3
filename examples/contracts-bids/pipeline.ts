// A data contract on a source and quality expectations on the stream: records that break the contract go to
// the dead-letter log with the field, rule, subject and version; every minute the expectations report on a
// 'quality' output, which `sluice quality report` turns into JSON and an HTML page.
//   npx sluice run examples/contracts-bids/pipeline.ts
//   npx sluice dlq list examples/contracts-bids/out/log
//   npx sluice quality report examples/contracts-bids/out/quality.jsonl --html examples/contracts-bids/out/quality.html
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadContract, pipeline, sink, source, withContract, type QualityResult } from 'sluice'

export interface Bid {
  auction: number
  bidder: number
  email?: string
  price: number
  channel: string
  ts: number
}

// Files beside this module, named relative to the current folder.
const here = (file: string) => relative(process.cwd(), fileURLToPath(new URL(file, import.meta.url)))

const bids = loadContract<Bid>(here('contract.yaml'))

const p = pipeline('bids', { onError: 'dead-letter', deadLetter: { dir: here('out/log') } })
const checked = p
  .from(withContract(source.jsonl(here('data/bids.jsonl'), { eventTime: (b: Bid) => b.ts }), bids))
  .expect(bids.expectations, { window: '1m' })
  .id('bid-quality')
checked.map((b) => ({ auction: b.auction, price: b.price, ts: b.ts })).to(sink.jsonl(here('out/prices.jsonl')))
checked.sideOutput<QualityResult>('quality').to(sink.jsonl(here('out/quality.jsonl')))
export default p
