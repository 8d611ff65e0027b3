import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pipeline, run } from '../../src/index.ts'
import { nexmark } from '../../src/connectors/nexmark/index.ts'
import type { Manifest } from '../../src/checkpoint/manifest.ts'
import { pacedByCheckpoints } from '../../test/checkpoint/paced.ts'
import { queries } from './queries.ts'
import { resultSink } from './results.ts'

/**
 * The size of each checkpoint of a Nexmark query, by step: a checkpoint every `--every` events (the source
 * waits for it, so the checkpoints fall at the same events however fast the machine is), incremental, every
 * checkpoint kept. Prints one JSON line per checkpoint and a summary line per query.
 *
 * @example
 * npx node bench/nexmark/delta-sizes.ts --query q4,q9 --events 1000000 --every 100000
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { query: { type: 'string', default: 'q4,q9' }, events: { type: 'string', default: '1000000' }, every: { type: 'string', default: '100000' }, state: { type: 'string', default: 'heap' } },
  })
  const events = Number(values.events)
  for (const name of values.query.split(',')) {
    const query = queries[name]
    if (query === undefined) throw new Error(`unknown query '${name}'`)
    const dir = mkdtempSync(join(tmpdir(), `nexmark-deltas-${name}-`))
    try {
      const p = pipeline(`nexmark-${name}`)
      query.build(p.from(pacedByCheckpoints(nexmark({ events }), values.every))).to(resultSink())
      p.options.state = { backend: values.state as 'heap' | 'durable' }
      await run(p, { checkpoint: { dir, intervalMs: 20, retain: 1000, maxDeltas: 1000 } })
      const rows: { id: number; delta: boolean; bytes: number; steps: Record<string, number> }[] = []
      for (const folder of readdirSync(dir).filter((f) => f.startsWith('chk-')).sort()) {
        let m: Manifest
        try {
          m = JSON.parse(readFileSync(join(dir, folder, 'manifest.json'), 'utf8')) as Manifest
        } catch {
          continue
        }
        const steps: Record<string, number> = {}
        let delta = false
        let bytes = 0
        for (const op of m.operators) {
          for (const f of op.files) {
            if (f.checkpoint !== undefined && f.checkpoint !== m.id) continue
            steps[op.step] = (steps[op.step] ?? 0) + f.bytes
            bytes += f.bytes
            if (f.delta === true) delta = true
          }
        }
        rows.push({ id: m.id, delta, bytes, steps })
        console.log(JSON.stringify({ query: name, checkpoint: m.id, delta, bytes, steps }))
      }
      const deltas = rows.filter((r) => r.delta)
      const fulls = rows.filter((r) => !r.delta)
      const mean = (xs: number[]) => (xs.length === 0 ? 0 : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length))
      console.log(JSON.stringify({ query: name, events, every: Number(values.every), checkpoints: rows.length, fulls: fulls.length, deltas: deltas.length, meanFullBytes: mean(fulls.map((r) => r.bytes)), meanDeltaBytes: mean(deltas.map((r) => r.bytes)), lastBytes: rows.at(-1)?.bytes ?? 0 }))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2))
