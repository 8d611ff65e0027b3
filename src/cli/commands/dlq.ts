import { resolve } from 'node:path'
import type { Command, ParsedArgs } from '../command.ts'
import { UsageError, positiveIntFlag } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { openLog } from '../../log/index.ts'
import { requireLog } from '../../dlq/reader.ts'
import { redriveFrom, type RedriveTarget } from '../../dlq/redrive.ts'
import { logLetterStore, type LetterStore } from '../../dlq/store.ts'
import { kafkaLetterStore } from '../../connectors/kafka/letter-store.ts'

const actions = ['list', 'show', 'redrive'] as const

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'dead letters: list them by step and reason, show them, redrive them into a pipeline input',
  usage: 'sluice dlq <list|show|redrive> <log folder | kafka://host:port> [flags]',
  description: [
    'list <dir> [--topic t] [--pipeline p]',
    '    dead-letter topics with counts of committed letters per step and reason, and letters still waiting',
    '    for their checkpoint',
    'show <dir> --topic t [--from offset] [--limit n] [--step s]',
    '    committed letters as JSON lines: offset, pipeline, step, reason, error, position, attempts, time,',
    '    record and recordFormat (raw: the original line; base64: its bytes, when not UTF-8; json: the',
    '    record as the step saw it), and recordTruncated/recordBytes for a record cut to 1 MiB',
    'redrive <dir> --topic t --to <file | log:topic> [--step s] [--from offset]',
    '    appends the original records, byte for byte, to a pipeline input file (JSONL; CSV takes raw lines',
    '    only) or to a topic of the same log (log:topic; kafka:topic for a Kafka cluster), and remembers',
    '    how far it got for that target (consumer group sluice-dlq-redrive.<topic>.to.<target>, or',
    '    .step.<s> with --step): running it again to the same target redrives only new letters; a new',
    '    target gets them all',
    '',
    'In place of the log folder, kafka://host:port[,host:port] reads dead-letter topics of a Kafka cluster',
    '(deadLetter: { kafka }) with read_committed: letters of completed checkpoints only; list takes the',
    'topics named *.dlq.',
    'The log folder is locked while a pipeline writes to it: run these when no pipeline has it open.',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: `an action (${actions.join(', ')}) and the log folder` },
  flags: [
    { name: 'topic', short: 't', type: 'string', placeholder: 'TOPIC', description: 'the dead-letter topic (list: default all; show and redrive: required)' },
    { name: 'pipeline', type: 'string', placeholder: 'NAME', description: 'list: only letters of this pipeline' },
    { name: 'step', short: 's', type: 'string', placeholder: 'STEP', description: 'show, redrive: only letters of this step' },
    { name: 'from', type: 'string', placeholder: 'OFFSET', description: 'show, redrive: start at this offset' },
    { name: 'limit', short: 'n', type: 'string', placeholder: 'N', description: 'show: most letters to print' },
    { name: 'to', type: 'string', placeholder: 'FILE|log:TOPIC|kafka:TOPIC', description: 'redrive: where the records go (required)' },
    { name: 'json', type: 'boolean', description: 'list, redrive: print JSON' },
  ],
  examples: [
    'sluice dlq list data/log',
    'sluice dlq show data/log --topic clicks.dlq --step parse-clicks -n 20',
    'sluice dlq redrive data/log --topic clicks.dlq --to data/clicks-retry.jsonl',
    'sluice dlq redrive data/log --topic clicks.dlq --to log:clicks --step enrich',
    'sluice dlq redrive kafka://localhost:9092 --topic clicks.dlq --to kafka:clicks',
  ],

  async run(args, ctx) {
    const [action, dirArg] = args.positionals
    if (!(actions as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}'; use one of ${actions.join(', ')}`, 'dlq')
    const topic = typeof args.values.topic === 'string' ? args.values.topic : undefined
    if (action !== 'list' && topic === undefined) throw new UsageError(`'dlq ${action}' needs --topic`, 'dlq')
    if (action === 'redrive' && typeof args.values.to !== 'string') throw new UsageError("'dlq redrive' needs --to <file | log:topic | kafka:topic>", 'dlq')
    const from = offsetFlag(args)
    const { store, close } = await openStore(dirArg, ctx)
    try {
      const out = (s: string) => void ctx.stdout.write(s + '\n')
      if (action === 'list') await list(store, topic, args, out)
      else if (action === 'show') await show(store, topic!, from, args, out)
      else {
        const to = String(args.values.to)
        const scheme = /^(log|kafka):/.exec(to)?.[1]
        if (scheme !== undefined && scheme !== store.scheme) throw new UsageError(`--to ${scheme}:<topic> writes to a topic of the same ${store.scheme === 'log' ? 'log folder' : 'Kafka cluster'}: use ${store.scheme}:<topic> or a file`, 'dlq')
        const target: RedriveTarget = scheme !== undefined ? { kind: 'topic', topic: to.slice(scheme.length + 1) } : { kind: 'file', path: resolve(ctx.cwd, to) }
        if (target.kind === 'topic' && target.topic === topic) throw new UsageError('--to names the dead-letter topic itself', 'dlq')
        const step = typeof args.values.step === 'string' ? args.values.step : undefined
        const r = await redriveFrom(store, topic!, target, { step, from })
        if (args.values.json === true) out(JSON.stringify(r))
        else out(`redrove ${r.redriven} records from ${topic} to ${to}${r.skipped > 0 ? `, skipped ${r.skipped} that cannot be written there` : ''}${r.pending > 0 ? `, ${r.pending} wait for a checkpoint` : ''}; next offset ${r.nextOffset}`)
      }
      return exitCode.ok
    } finally {
      await close()
    }
  },
}

/** The letters behind the positional: a log folder, or `kafka://brokers`. */
async function openStore(where: string, ctx: { cwd: string; stderr: { write(s: string): unknown } }): Promise<{ store: LetterStore; close: () => Promise<void> }> {
  if (where.startsWith('kafka://')) {
    const store = kafkaLetterStore({ brokers: where.slice('kafka://'.length) })
    return { store, close: () => store.close() }
  }
  await requireLog(resolve(ctx.cwd, where))
  const log = await openLog(resolve(ctx.cwd, where), { retentionCheckMs: 0, logger: { warn: (m) => void ctx.stderr.write(`${m}\n`) } })
  return { store: logLetterStore(log), close: () => log.close() }
}

async function list(store: LetterStore, topic: string | undefined, args: ParsedArgs, out: (s: string) => void): Promise<void> {
  const pipeline = typeof args.values.pipeline === 'string' ? args.values.pipeline : undefined
  const topics = topic !== undefined ? [topic] : await store.topics()
  const rows: { topic: string; letters: number; pending: number; byStep: { step: string; reason: string; count: number }[] }[] = []
  for (const t of topics) {
    const counts = new Map<string, { step: string; reason: string; count: number }>()
    let letters = 0
    let pending = 0
    for await (const s of store.scan(t)) {
      if (pipeline !== undefined && s.letter.pipeline !== pipeline) continue
      if (s.visibility === 'pending') pending++
      if (s.visibility !== 'visible') continue
      letters++
      const k = `${s.letter.step}\0${s.letter.reason}`
      const c = counts.get(k) ?? { step: s.letter.step, reason: s.letter.reason, count: 0 }
      c.count++
      counts.set(k, c)
    }
    rows.push({ topic: t, letters, pending, byStep: [...counts.values()].sort((a, b) => a.step.localeCompare(b.step) || a.reason.localeCompare(b.reason)) })
  }
  if (args.values.json === true) {
    for (const r of rows) out(JSON.stringify(r))
    return
  }
  for (const r of rows) {
    out(`${r.topic}: ${r.letters} letters${r.pending > 0 ? `, ${r.pending} waiting for a checkpoint` : ''}`)
    if (r.byStep.length === 0) continue
    const w = Math.max(4, ...r.byStep.map((x) => x.step.length))
    const wr = Math.max(6, ...r.byStep.map((x) => x.reason.length))
    out(`  ${'step'.padEnd(w)}  ${'reason'.padEnd(wr)}  count`)
    for (const x of r.byStep) out(`  ${x.step.padEnd(w)}  ${x.reason.padEnd(wr)}  ${String(x.count).padStart(5)}`)
  }
}

async function show(store: LetterStore, topic: string, from: number | undefined, args: ParsedArgs, out: (s: string) => void): Promise<void> {
  const limit = positiveIntFlag(args.values, 'limit', 'dlq') ?? Infinity
  const step = typeof args.values.step === 'string' ? args.values.step : undefined
  let n = 0
  for await (const s of store.scan(topic, { from })) {
    if (n >= limit) break
    if (s.visibility !== 'visible' || (step !== undefined && s.letter.step !== step)) continue
    out(JSON.stringify({ offset: s.offset, ...s.letter }))
    n++
  }
}

function offsetFlag(args: ParsedArgs): number | undefined {
  const raw = args.values.from
  if (raw === undefined) return undefined
  const s = String(raw)
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`--from must be an offset (0 or more), got '${s}'`, 'dlq')
  return Number(s)
}
