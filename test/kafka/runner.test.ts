// `sluice worker --runner kafka` against the real broker: a window join and a window aggregate over three
// worker processes, thread 0 killed with SIGKILL mid-run and a fourth worker added later, give the same
// read_committed output as the pipeline run in one process: nothing lost, nothing twice.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { sluice } from '../cli/sluice.ts'
import { broker } from './support.ts'
import { ends, events, jobTopics, output, reference, stopJob, until, worker, write, type Worker } from './runner-support.ts'

const has = (w: Worker, line: RegExp): boolean => line.test(w.log)

test('three workers, one killed mid-run and one added later: the output of one process, exactly once', { skip: broker.skip, timeout: 900_000 }, async () => {
  const { input, out, ref, group, refDir } = await jobTopics('runner')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-runner-'))
  const workers: Worker[] = []
  try {
    await write(input, events(0, 4000))
    for (let i = 0; i < 3; i++) workers.push(worker(input, out, group, dir))
    await until('a run of three workers', () => workers.some((w) => has(w, /thread 2 of 3/)), undefined, workers)
    await until('output of the three', async () => (await output(out)).length > 0, undefined, workers)

    // SIGKILL thread 0 of the current run (it coordinates checkpoints): the others notice by the session timeout.
    const leader = workers.find((w) => /thread (\d+) of 3\n(?![\s\S]*thread)/.exec(w.log)?.[1] === '0') ?? workers[0]
    leader.proc.kill('SIGKILL')
    assert.equal(await leader.exited, null)
    await write(input, events(4000, 8000))
    const alive = workers.filter((w) => w !== leader)
    await until('a run of the two left', () => alive.every((w) => has(w, /thread \d of 2/)), undefined, alive)

    const late = worker(input, out, group, dir)
    workers.push(late)
    await until('the added worker in a run', () => has(late, /thread \d of 3/), undefined, [...alive, late])
    await write(input, [...events(8000, 12000), ...ends()])

    await reference(input, ref, refDir)
    const expected = await output(ref)
    assert.ok(expected.length > 1000)
    await until('the whole output', async () => (await output(out)).length >= expected.length, undefined, [...alive, late])
    await stopJob(dir)
    const codes = await Promise.all([...alive, late].map((w) => w.exited))
    assert.deepEqual(codes, [0, 0, 0], [...alive, late].map((w) => w.log).join('\n'))
    assert.deepEqual(await output(out), expected)
  } finally {
    for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
    await rm(refDir, { recursive: true, force: true })
  }
})

test('sluice worker: --runner kafka and the connection flags are required, bad values are usage errors', () => {
  const file = 'test/kafka/fixtures/window-join.ts'
  const cases: [string[], RegExp][] = [
    [[file, '--bootstrap', 'h:1', '--group', 'g', '--checkpoint-dir', 'd'], /--runner kafka is required/],
    [[file, '--runner', 'kafka', '--group', 'g', '--checkpoint-dir', 'd'], /--bootstrap is required/],
    [[file, '--runner', 'kafka', '--bootstrap', 'h:1', '--checkpoint-dir', 'd'], /--group is required/],
    [[file, '--runner', 'kafka', '--bootstrap', 'h:1', '--group', 'g'], /--checkpoint-dir is required/],
    [[file, '--runner', 'kafka', '--bootstrap', 'h:1', '--group', 'g', '--checkpoint-dir', 'd', '--min-workers', '0'], /--min-workers must be a positive integer/],
  ]
  for (const [args, message] of cases) {
    const r = sluice(['worker', ...args])
    assert.equal(r.code, 2, args.join(' '))
    assert.match(r.stderr, message)
  }
})
