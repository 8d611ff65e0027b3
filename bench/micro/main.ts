import { parseArgs } from 'node:util'
import { run } from '../../src/index.ts'
import { cases } from './cases.ts'

/**
 * Micro benchmarks of the engine's hot path. Each case runs once to warm up, then `--runs` times; the
 * figure is events per CPU-second of the whole process (the generator's cost included).
 */
export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { events: { type: 'string', default: '5000000' }, runs: { type: 'string', default: '3' }, case: { type: 'string' } } })
  const n = Number(values.events)
  const runs = Number(values.runs)
  for (const c of cases) {
    if (values.case !== undefined && c.name !== values.case) continue
    await run(c.build(Math.min(n, 500_000)))
    const rates: number[] = []
    for (let i = 0; i < runs; i++) {
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const s = await run(c.build(n))
      const cpu = process.cpuUsage(cpu0)
      const cpuS = (cpu.user + cpu.system) / 1e6
      if (s.recordsIn !== n) throw new Error(`${c.name}: read ${s.recordsIn} of ${n} events`)
      rates.push(n / cpuS)
      void t0
    }
    rates.sort((a, b) => a - b)
    const median = rates[Math.floor(rates.length / 2)]
    console.log(JSON.stringify({ bench: c.name, events: n, runs, eventsPerCpuSecond: Math.round(median), min: Math.round(rates[0]), max: Math.round(rates[rates.length - 1]), target: c.target, meetsTarget: median >= c.target }))
  }
}
