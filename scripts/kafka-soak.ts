// Soak test of `sluice worker --runner kafka`: runs the window-join job over three workers again and again,
// each round SIGKILLing seeded-random workers at seeded-random moments while input arrives in phases and
// starting replacements, then compares the job's read_committed output with one process's run of the same
// input. Stops starting rounds after --minutes (default 10).
//   node scripts/kafka-soak.ts [--seed N] [--minutes M] [--kills K]
// Needs the broker of `npm run services -- kafka`.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ends, events, jobTopics, output, reference, stopJob, until, worker, write, type Worker } from '../test/kafka/runner-support.ts'

const { values } = parseArgs({ options: { seed: { type: 'string' }, minutes: { type: 'string' }, kills: { type: 'string' } } })
let seed = Number(values.seed ?? Date.now() % 100_000)
const minutes = Number(values.minutes ?? 10)
const killsPerRound = Number(values.kills ?? 2)
const deadline = Date.now() + minutes * 60_000

/** A small seeded generator (mulberry32), so that a failing round can be replayed with its seed. */
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

async function round(n: number): Promise<boolean> {
  const startSeed = seed
  const { input, out, ref, group, refDir } = await jobTopics('soak')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-soak-'))
  const workers: Worker[] = []
  const live = (): Worker[] => workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null)
  const phases = killsPerRound + 1
  const size = 3000
  try {
    for (let i = 0; i < 3; i++) workers.push(worker(input, out, group, dir))
    for (let phase = 0; phase < phases; phase++) {
      await write(input, events(phase * size, (phase + 1) * size))
      if (phase === phases - 1) break
      // Kill at once (often during a restore or before the first checkpoint), or once more output is out.
      const atOnce = random() < 0.5
      const seen = (await output(out)).length
      await until('progress before a kill', async () => atOnce || (await output(out)).length > seen)
      const victims = live()
      const victim = victims[Math.floor(random() * victims.length)]
      victim.proc.kill('SIGKILL')
      await victim.exited
      workers.push(worker(input, out, group, dir))
      console.log(`round ${n}: killed worker ${victim.proc.pid} in phase ${phase}`)
    }
    await write(input, ends())
    await reference(input, ref, refDir)
    const expected = await output(ref)
    await until('the whole output', async () => (await output(out)).length >= expected.length, 600_000)
    await stopJob(dir)
    await Promise.all(live().map((w) => w.exited))
    const got = await output(out)
    const same = JSON.stringify(got) === JSON.stringify(expected)
    console.log(`round ${n} (seed ${startSeed}): ${same ? 'equal' : 'DIFFERENT'} (${got.length} records, ${expected.length} expected)`)
    return same
  } finally {
    for (const w of live()) w.proc.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    await rm(refDir, { recursive: true, force: true })
  }
}

let failed = 0
let n = 0
while (Date.now() < deadline) {
  if (!(await round(++n))) failed++
}
console.log(`${n} rounds, ${failed} different`)
process.exit(failed === 0 ? 0 : 1)
