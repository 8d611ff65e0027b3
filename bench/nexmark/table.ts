import { readFileSync } from 'node:fs'

/** Events per CPU-second that the Nexmark issue asks of each query (one worker, checkpoints every 10 s). */
export const targets: Record<string, number> = {
  q0: 2_000_000, q1: 2_000_000, q2: 2_000_000, q14: 2_000_000, q21: 2_000_000, q22: 2_000_000,
  q3: 1_000_000, q8: 1_000_000, q12: 1_000_000,
  q5: 600_000,
  q4: 300_000, q7: 300_000,
  q11: 200_000,
  q9: 100_000, q16: 100_000, q17: 100_000, q18: 100_000, q19: 100_000, q20: 100_000,
}

/** The best published events per second per core (NEXMARK.md's table), and whose it is. */
export const bestPublished: Record<string, [number, string]> = {
  q0: [436_000, 'Feldera'], q1: [412_000, 'Feldera'], q2: [422_000, 'Feldera'], q3: [413_000, 'Feldera'],
  q4: [265_000, 'Feldera'], q5: [412_000, 'Feldera'], q7: [196_000, 'Feldera'], q8: [415_000, 'Feldera'],
  q9: [57_000, 'Feldera'], q11: [46_000, 'Flink 2.x'], q12: [418_000, 'Feldera'],
}

const k = (x: number) => (x >= 10_000_000 ? `${(x / 1e6).toFixed(1)}M` : `${Math.round(x / 1000).toLocaleString('en-US')}K`)

/**
 * The README's table from the JSON lines of `measure-all.sh` (Sluice's lines and DuckDB's, in any order;
 * the median run of each query):
 * `node bench/nexmark/table.ts results.jsonl`.
 */
export function table(lines: Record<string, any>[]): string {
  // DuckDB's figure is the one over the same number of events.
  const num = (q: string) => Number(q.slice(1))
  lines = [...lines].sort((a, b) => num(a.query) - num(b.query))
  const duck = new Map(lines.filter((l) => l.duckdbCpuSeconds !== undefined && l.cpuSeconds === undefined).map((l) => [`${l.query}/${l.events}`, l]))
  const rows = ['| query | events | events/CPU-s | target | meets | best published per core | CPU s | DuckDB CPU s | Sluice ÷ DuckDB CPU | peak RSS MB | runs | checkpoints | result records |', '|---|---:|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  // Several runs of a query: the median by events per CPU-second. With several parallelisms, the lowest one's.
  const lowest = Math.min(...lines.filter((l) => l.cpuSeconds !== undefined).map((l) => l.parallelism ?? 1))
  const runs = new Map<string, Record<string, any>[]>()
  for (const l of lines) if (l.cpuSeconds !== undefined && (l.parallelism ?? 1) === lowest) runs.set(l.query, [...(runs.get(l.query) ?? []), l])
  for (const l of lines) if (l.error !== undefined && !runs.has(l.query)) rows.push(`| ${l.query} | ${(l.events / 1e6).toLocaleString('en-US')}M | failed: ${l.error} | ${targets[l.query] === undefined ? '-' : k(targets[l.query])} |`)
  for (const ms of runs.values()) {
    const m = ms.sort((a, b) => a.eventsPerCpuSecond - b.eventsPerCpuSecond)[Math.floor((ms.length - 1) / 2)]
    const d = duck.get(`${m.query}/${m.events}`)
    const best = bestPublished[m.query]
    const target = targets[m.query]
    rows.push(
      `| ${m.query} | ${(m.events / 1e6).toLocaleString('en-US')}M | ${k(m.eventsPerCpuSecond)} | ${target === undefined ? '-' : k(target)} | ${target === undefined ? '-' : m.eventsPerCpuSecond >= target ? 'yes' : '**no**'} | ` +
        `${best === undefined ? '-' : `${k(best[0])} (${best[1]})`} | ${m.cpuSeconds.toFixed(2)} | ${d === undefined ? 'n/a' : d.duckdbCpuSeconds.toFixed(3)} | ` +
        `${d === undefined ? 'n/a' : `${(m.cpuSeconds / d.duckdbCpuSeconds).toFixed(1)}x`} | ${Math.round(m.peakRssBytes / 2 ** 20)} | ${ms.length} | ${m.checkpoints} | ${m.resultRecords.toLocaleString('en-US')} |`,
    )
  }
  return rows.join('\n')
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

/**
 * The scaling table from runs of the same queries at several parallelisms: per parallelism the median events per
 * wall-second and per CPU-second, and against the lowest parallelism the speed-up in wall time and the CPU per
 * event. Empty with one parallelism.
 */
export function scalingTable(lines: Record<string, any>[]): string {
  const ok = lines.filter((l) => l.cpuSeconds !== undefined)
  const ps = [...new Set(ok.map((l) => (l.parallelism ?? 1) as number))].sort((a, b) => a - b)
  if (ps.length < 2) return ''
  const num = (q: string) => Number(q.slice(1))
  const queries = [...new Set(ok.map((l) => l.query as string))].sort((a, b) => num(a) - num(b))
  const head = ['query', 'events', ...ps.flatMap((p) => [`p${p} events/wall-s`, `p${p} events/CPU-s`]), ...ps.slice(1).flatMap((p) => [`p${p} ÷ p${ps[0]} wall speed`, `p${p} ÷ p${ps[0]} CPU per event`]), 'runs']
  const rows = [`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`]
  for (const q of queries) {
    const at = (p: number) => ok.filter((l) => l.query === q && (l.parallelism ?? 1) === p)
    const wall = (p: number) => median(at(p).map((l) => l.events / l.wallSeconds))
    const cpu = (p: number) => median(at(p).map((l) => l.eventsPerCpuSecond))
    if (ps.some((p) => at(p).length === 0)) continue
    const cells = [q, `${(at(ps[0])[0].events / 1e6).toLocaleString('en-US')}M`, ...ps.flatMap((p) => [k(wall(p)), k(cpu(p))])]
    for (const p of ps.slice(1)) cells.push(`${(wall(p) / wall(ps[0])).toFixed(2)}x`, `${(cpu(ps[0]) / cpu(p)).toFixed(2)}x`)
    cells.push(ps.map((p) => at(p).length).join('/'))
    rows.push(`| ${cells.join(' | ')} |`)
  }
  return rows.join('\n')
}

if (import.meta.main) {
  const text = readFileSync(process.argv[2] ?? 0, 'utf8')
  const lines = text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  console.log(table(lines))
  const scaling = scalingTable(lines)
  if (scaling !== '') console.log(`\n${scaling}`)
}
