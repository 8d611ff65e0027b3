import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { END, type Source, type SourceRead } from '../../src/core/source.ts'
import { pipeline, sink, start } from '../../src/index.ts'

// A source may hold checkpoint barriers back while it stands where it could not resume from (an initial
// snapshot part way read, as source.postgresCdc's): no checkpoint may record a position inside that stretch,
// reads go on while a checkpoint waits, and a stop asked for during it ends only once the stretch is read.

const SNAPSHOT = 300
const TOTAL = 600

interface Trace {
  /** The position of every checkpoint the source was asked for. */
  taken: number[]
  read: number
}

/** Reads 0..TOTAL-1 ten at a time, a little slowly; holds barriers until the first SNAPSHOT are read. */
function snapshotting(trace: Trace, reachedTen: () => void): Source<number> {
  return {
    kind: 'snapshotting',
    bounded: false,
    options: {},
    describe: () => ({ kind: 'snapshotting' }),
    open: () => {
      let n = 0
      return {
        partitions: 1,
        holdsBarriers: () => n < SNAPSHOT,
        positions: () => {
          trace.taken.push(n)
          return [n]
        },
        seek: (p: unknown[]) => {
          n = p[0] as number
        },
        async read(): Promise<SourceRead<number>> {
          if (n >= TOTAL) return END
          await sleep(2)
          const values = Array.from({ length: 10 }, (_, i) => n + i)
          n += 10
          trace.read = n
          if (n >= 10) reachedTen()
          return { values, times: values.map(() => 0) }
        },
        close() {},
      }
    },
  }
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-held-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('checkpoints wait while a source holds barriers; none records a position inside the held stretch', async () => {
  await withDir(async (dir) => {
    const trace: Trace = { taken: [], read: 0 }
    const out = sink.collect<number>()
    const p = pipeline('held')
    p.from(snapshotting(trace, () => {})).to(out)
    const job = start(p, { checkpoint: { dir, intervalMs: 1 } })
    await job.done
    assert.equal(out.values.length, TOTAL)
    assert.ok(trace.taken.length > 0, 'checkpoints were taken after the held stretch')
    const inside = trace.taken.filter((n) => n < SNAPSHOT)
    assert.deepEqual(inside, [], `checkpoints inside the held stretch at ${inside.join(', ')}`)
  })
})

test('a stop asked for while a source holds barriers ends after the held stretch, with its last checkpoint past it', async () => {
  await withDir(async (dir) => {
    const trace: Trace = { taken: [], read: 0 }
    let reached!: () => void
    const ten = new Promise<void>((r) => (reached = r))
    const p = pipeline('held-stop')
    p.from(snapshotting(trace, () => reached())).to(sink.collect())
    const job = start(p, { checkpoint: { dir, intervalMs: 1_000_000 } })
    await ten
    await job.stop()
    const summary = await job.done
    assert.equal(summary.status, 'stopped')
    assert.ok(trace.read >= SNAPSHOT, `the source stopped at ${trace.read}, inside the held stretch`)
    assert.ok(trace.taken.length > 0 && trace.taken.every((n) => n >= SNAPSHOT), `checkpoints at ${trace.taken.join(', ')}`)
  })
})
