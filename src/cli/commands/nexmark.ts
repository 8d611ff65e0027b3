import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Command } from '../command.ts'
import { UsageError, positiveIntFlag } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { NexmarkGenerator, nexmarkDefaults, type NexmarkEvent } from '../../connectors/nexmark/index.ts'

const CHUNK = 4096

/** Writes events 0..events-1 as JSON lines to `path`; returns the bytes written. */
export function writeNexmarkJsonl(path: string, events: number, gen: NexmarkGenerator): number {
  mkdirSync(dirname(path), { recursive: true })
  const fd = openSync(path, 'w')
  let bytes = 0
  try {
    const chunk: NexmarkEvent[] = []
    for (let from = 0; from < events; from += CHUNK) {
      chunk.length = 0
      gen.fill(chunk, from, 1, Math.min(CHUNK, events - from))
      let s = ''
      for (const e of chunk) s += JSON.stringify(e) + '\n'
      bytes += writeSync(fd, s)
    }
  } finally {
    closeSync(fd)
  }
  return bytes
}

export const nexmarkCommand: Command = {
  name: 'nexmark',
  summary: 'generate Nexmark benchmark events (persons, auctions, bids) as JSON lines',
  usage: 'sluice nexmark generate --events <N> --out <file.jsonl> [flags]',
  description:
    'Writes the first N events of the deterministic Nexmark generator, one JSON object per line with a `type` field ' +
    "('person', 'auction', 'bid') and the event's fields under their Nexmark names; times are epoch milliseconds. " +
    'The defaults are those of `npm run bench -- nexmark`, so `--events N` writes exactly the events the benchmark processes.',
  positionals: { min: 1, max: 1, names: "the action ('generate')" },
  flags: [
    { name: 'events', type: 'string', placeholder: 'N', description: 'number of events (required)' },
    { name: 'out', type: 'string', placeholder: 'file.jsonl', description: 'file to write (required; replaced if it exists)' },
    { name: 'rate', type: 'string', placeholder: 'N', description: `events per second of event time (default ${nexmarkDefaults.ratePerSecond})` },
    { name: 'first-event-time', type: 'string', placeholder: 'ms', description: `event time of the first event, epoch ms (default ${nexmarkDefaults.firstEventTime})` },
    { name: 'seed', type: 'string', placeholder: 'N', description: `random seed (default ${nexmarkDefaults.seed})` },
  ],
  examples: ['sluice nexmark generate --events 1000000 --out nexmark.jsonl', 'sluice nexmark generate --events 50000 --rate 1000 --out small.jsonl'],

  async run(args, ctx) {
    const action = args.positionals[0]
    if (action !== 'generate') throw new UsageError(`unknown action '${action}' (the action is 'generate')`, 'nexmark')
    const events = positiveIntFlag(args.values, 'events', 'nexmark')
    if (events === undefined) throw new UsageError('--events is required', 'nexmark')
    const out = args.values.out
    if (typeof out !== 'string' || out === '') throw new UsageError('--out is required', 'nexmark')
    const int = (name: string): number | undefined => {
      const raw = args.values[name]
      if (raw === undefined) return undefined
      const n = Number(raw)
      if (!/^-?\d+$/.test(String(raw)) || !Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer, got '${String(raw)}'`, 'nexmark')
      return n
    }
    const gen = new NexmarkGenerator({ ratePerSecond: positiveIntFlag(args.values, 'rate', 'nexmark'), firstEventTime: int('first-event-time'), seed: int('seed') })
    const path = resolve(ctx.cwd, out)
    const t0 = performance.now()
    const bytes = writeNexmarkJsonl(path, events, gen)
    ctx.stderr.write(`wrote ${events} events (${(bytes / 1e6).toFixed(1)} MB) to ${out} in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`)
    return exitCode.ok
  },
}
