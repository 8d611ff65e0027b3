// Appends to the log in a folder until killed: three producers at once, fsync 'always', small segments.
// Each record's value is 'o<offset>'. After each acknowledged append it prints `ack <from> <to>`.
import { openLog } from '../../src/log/index.ts'

const dir = process.argv[2]
const log = await openLog(dir, { fsync: 'always', segmentBytes: 16 * 1024, indexIntervalBytes: 512, retentionCheckMs: 0 })
await log.ensureTopic('t')
let next = log.describe('t').partitions[0].endOffset
let seed = Number(process.argv[3] ?? 1)
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
process.stdout.write(`ready ${next}\n`)

async function producer(): Promise<void> {
  for (;;) {
    const n = 1 + Math.floor(random() * 40)
    // Offsets are given in call order, so this producer's records get next .. next + n - 1.
    const first = next
    next += n
    const records = Array.from({ length: n }, (_, i) => ({ value: `o${first + i}`, key: i % 3 === 0 ? null : `k${i}` }))
    const r = await log.append('t', 0, records)
    if (r.baseOffset !== first) throw new Error(`expected offset ${first}, got ${r.baseOffset}`)
    process.stdout.write(`ack ${r.baseOffset} ${r.nextOffset}\n`)
  }
}
await Promise.all([producer(), producer(), producer()])
