import { createReadStream } from 'node:fs'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { CliContext, Command, ParsedArgs } from '../command.ts'
import { UsageError, positiveIntFlag } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { openLog } from '../../log/index.ts'
import { repairLog } from '../../log/repair.ts'
import type { Log, LogRecordInput } from '../../log/index.ts'

const actions = ['topics', 'describe', 'produce', 'tail', 'repair'] as const

export const logCommand: Command = {
  name: 'log',
  summary: 'inspect, write and repair the embedded log: list topics, describe partitions, produce, tail, repair',
  usage: 'sluice log <topics|describe|produce|tail> [topic] [file] --dir <log folder> [flags]\n       sluice log repair <log folder> [--topic t]',
  description: [
    'topics                      list the topics of the log',
    'describe <topic>            partitions with start and end offsets, records, bytes and segments',
    'produce <topic> <file>      append each line of the file as one record (created with --partitions if new)',
    'tail <topic>                print the last --max records of a partition (or from --from), one value per line',
    'repair <dir> [--topic t]    when the log refuses to open because a segment is damaged or missing: move the',
    '                            damaged bytes to <partition>/quarantine/ and keep every valid record after them;',
    '                            the offsets lost stay used and are listed in the partition\'s partition.json',
    '',
    'The log folder is locked while a process has it open, so these work on a log no pipeline is using.',
  ].join('\n'),
  positionals: { min: 1, max: 3, names: `an action (${actions.join(', ')})` },
  flags: [
    { name: 'dir', short: 'd', type: 'string', placeholder: 'DIR', description: 'the log folder (required)' },
    { name: 'partition', short: 'p', type: 'string', placeholder: 'N', description: 'partition to produce to or tail (default 0)' },
    { name: 'partitions', type: 'string', placeholder: 'N', description: 'partitions of a topic that produce creates (default 1)' },
    { name: 'from', type: 'string', placeholder: 'OFFSET', description: 'tail: first offset to print' },
    { name: 'max', short: 'n', type: 'string', placeholder: 'N', description: 'tail: most records to print (default 10)' },
    { name: 'topic', short: 't', type: 'string', placeholder: 'TOPIC', description: 'repair: only this topic (default every topic)' },
    { name: 'json', type: 'boolean', description: 'print JSON (one object per line) instead of text' },
  ],
  examples: ['sluice log topics --dir data/log', 'sluice log describe clicks --dir data/log --json', 'sluice log produce clicks events.jsonl --dir data/log', 'sluice log tail clicks -p 0 -n 20 --dir data/log', 'sluice log repair data/log --topic clicks'],

  async run(args, ctx) {
    const [action, topic, file] = args.positionals
    if (!(actions as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}'; use one of ${actions.join(', ')}`, 'log')
    if (action === 'repair') return repair(args, ctx)
    if (typeof args.values.dir !== 'string') throw new UsageError('--dir is required', 'log')
    if (action !== 'topics' && topic === undefined) throw new UsageError(`'log ${action}' needs a topic`, 'log')
    if (action === 'produce' && file === undefined) throw new UsageError("'log produce' needs a file", 'log')
    const log = await openLog(resolve(ctx.cwd, args.values.dir), { retentionCheckMs: 0, logger: { warn: (m) => void ctx.stderr.write(`${m}\n`) } })
    try {
      const out = (s: string) => void ctx.stdout.write(s + '\n')
      const json = args.values.json === true
      if (action === 'topics') for (const t of log.listTopics()) out(json ? JSON.stringify(log.describe(t)) : t)
      else if (action === 'describe') describe(log, topic, json, out)
      else if (action === 'produce') await produce(log, topic, resolve(ctx.cwd, file), args, out)
      else await tail(log, topic, args, json, out)
      return exitCode.ok
    } finally {
      await log.close()
    }
  },
}

async function repair(args: ParsedArgs, ctx: CliContext): Promise<number> {
  const dirArg = args.positionals[1] ?? (typeof args.values.dir === 'string' ? args.values.dir : undefined)
  if (dirArg === undefined) throw new UsageError("'log repair' needs the log folder", 'log')
  const dir = resolve(ctx.cwd, dirArg)
  if (!existsSync(join(dir, 'topics'))) throw new UsageError(`'${dirArg}' holds no log (no topics folder)`, 'log')
  const topic = typeof args.values.topic === 'string' ? args.values.topic : undefined
  const done = await repairLog(dir, { topic })
  const out = (s: string) => void ctx.stdout.write(s + '\n')
  if (args.values.json === true) for (const a of done) out(JSON.stringify(a))
  else if (done.length === 0) out(`nothing to repair${topic === undefined ? '' : ` in topic ${topic}`}`)
  else {
    for (const a of done) {
      const lost = a.lostTo > a.lostFrom ? `offsets ${a.lostFrom}..${a.lostTo - 1} taken out` : 'no record lost'
      const bytes = a.kind === 'meta' ? `${a.segment} was unreadable, written again` : a.fromByte === undefined ? 'segment files missing' : `bytes ${a.fromByte}..${a.toByte} of ${a.segment}`
      out(`${a.topic}${a.partition < 0 ? '' : `/${a.partition}`}: ${a.kind}: ${bytes}; ${lost}${a.quarantine === undefined ? '' : `; kept in ${a.quarantine}`}`)
    }
  }
  return exitCode.ok
}

function describe(log: Log, topic: string, json: boolean, out: (s: string) => void): void {
  const d = log.describe(topic)
  if (json) return out(JSON.stringify(d))
  out(`topic ${d.name}: ${d.partitions.length} partitions, segments of ${d.config.segmentBytes} bytes`)
  out('partition  start offset  end offset  records  bytes  segments')
  for (const p of d.partitions) out([p.partition, p.startOffset, p.endOffset, p.records, p.sizeBytes, p.segments].map(String).join('  '))
}

async function produce(log: Log, topic: string, file: string, args: ParsedArgs, out: (s: string) => void): Promise<void> {
  const partitions = positiveIntFlag(args.values, 'partitions', 'log') ?? 1
  const partition = partitionFlag(args)
  await log.ensureTopic(topic, { partitions })
  let batch: LogRecordInput[] = []
  let first = -1
  let next = 0
  const flush = async () => {
    const r = await log.append(topic, partition, batch)
    if (first < 0) first = r.baseOffset
    next = r.nextOffset
    batch = []
  }
  for await (const line of byteLines(file)) {
    batch.push({ value: line })
    if (batch.length === 1000) await flush()
  }
  if (batch.length > 0) await flush()
  out(first < 0 ? 'no lines to produce' : `produced ${next - first} records to ${topic}/${partition}, offsets ${first}..${next - 1}`)
}

/** The lines of a file as their exact bytes (without LF or CRLF); never decoded, so any byte is kept. */
async function* byteLines(file: string): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0)
  const cut = (b: Buffer) => (b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b)
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
    let nl = data.indexOf(0x0a)
    while (nl >= 0) {
      yield Buffer.from(cut(data.subarray(0, nl)))
      data = data.subarray(nl + 1)
      nl = data.indexOf(0x0a)
    }
    carry = Buffer.from(data)
  }
  if (carry.length > 0) yield cut(carry)
}

async function tail(log: Log, topic: string, args: ParsedArgs, json: boolean, out: (s: string) => void): Promise<void> {
  const partition = partitionFlag(args)
  const max = positiveIntFlag(args.values, 'max', 'log') ?? 10
  const p = log.describe(topic).partitions[partition]
  if (p === undefined) throw new UsageError(`topic '${topic}' has no partition ${partition}`, 'log')
  let from = Math.max(p.startOffset, p.endOffset - max)
  if (args.values.from !== undefined) {
    from = Number(args.values.from)
    if (!Number.isSafeInteger(from) || from < 0) throw new UsageError(`--from must be an offset, got '${String(args.values.from)}'`, 'log')
  }
  let left = max
  while (left > 0) {
    const b = await log.readBatch(topic, partition, from, { maxRecords: Math.min(left, 1000) })
    if (b.offsets.length === 0) break
    for (let i = 0; i < b.offsets.length; i++) {
      const value = b.values[i].toString()
      out(json ? JSON.stringify({ offset: b.offsets[i], timestamp: b.timestamps[i], key: b.keys[i]?.toString() ?? null, value }) : value)
    }
    left -= b.offsets.length
    from = b.nextOffset
  }
}

function partitionFlag(args: ParsedArgs): number {
  const raw = args.values.partition
  if (raw === undefined) return 0
  const n = Number(raw)
  if (!/^\d+$/.test(String(raw)) || !Number.isSafeInteger(n)) throw new UsageError(`--partition must be a partition number, got '${String(raw)}'`, 'log')
  return n
}
