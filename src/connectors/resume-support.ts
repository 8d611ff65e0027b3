import assert from 'node:assert/strict'
import fc from 'fast-check'
import { END, type Source, type SourceContext, type SourceReader } from '../core/source.ts'

// For the source resume tests: read part of a source, take positions, open a fresh reader, seek, read
// the rest. Per partition, what was read before and after the cut must equal one straight read.

export function context(): SourceContext {
  return { pipeline: 'test', stepId: 'source-1', signal: new AbortController().signal, malformed: () => undefined }
}

export async function readPartition<T>(reader: SourceReader<T>, p: number, max: number, reads = Infinity): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < reads; i++) {
    const r = await reader.read(p, max)
    if (r === END) break
    if (r === null) throw new Error('a bounded source returned null')
    out.push(...r.values)
  }
  return out
}

export async function straight<T>(src: Source<T>, max: number): Promise<T[][]> {
  const reader = await src.open(context())
  try {
    const out: T[][] = []
    for (let p = 0; p < reader.partitions; p++) out.push(await readPartition(reader, p, max))
    return out
  } finally {
    await reader.close()
  }
}

/** Reads `cuts[p]` batches of each partition, stops, resumes in a fresh reader and reads the rest. */
export async function resumed<T>(src: Source<T>, max: number, cuts: number[]): Promise<T[][]> {
  const first = await src.open(context())
  const before: T[][] = []
  let positions: unknown[]
  try {
    for (let p = 0; p < first.partitions; p++) before.push(await readPartition(first, p, max, cuts[p % cuts.length]))
    positions = JSON.parse(JSON.stringify(first.positions!())) as unknown[]
  } finally {
    await first.close()
  }
  const second = await src.open(context())
  try {
    await second.seek!(positions)
    return await Promise.all(before.map(async (b, p) => [...b, ...(await readPartition(second, p, max))]))
  } finally {
    await second.close()
  }
}

export async function checkResume<T>(make: () => Source<T>, runs = 25): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }), async (max, cuts) => {
      const src = make()
      assert.deepEqual(await resumed(src, max, cuts), await straight(src, max))
    }),
    { numRuns: runs },
  )
}


/** A batch as the unbounded check compares it: each value with its changelog kind, if any. */
const entries = <T>(r: { values: T[]; kinds?: ArrayLike<number> }) => r.values.map((v, i) => ({ kind: r.kinds?.[i] ?? 0, value: v }))

/**
 * The resume check for an unbounded source of one partition, whose input a test writes once the first reader
 * is open (`feed`, e.g. after a CDC source created its slot): one reader reads `total` records in batches of
 * `max`, taking positions after every batch where the reader does not hold barriers (where a checkpoint could
 * be taken); then for each cut in `cuts` (indices into those positions) a fresh reader seeks to it and reads
 * on with batches of `resumeMax` until `total`, completing a checkpoint of the cut after its first batch. Cuts
 * are resumed in order, so a source that confirms completed positions to its system (and cannot go back
 * before them) sees them as a job's restarts would. What was read before the cut and after the seek must
 * equal the straight read, changelog kinds included, and nothing more may follow.
 * @example await checkResumeUnbounded(() => source.postgresCdc(opts), { total: 44, max: 3, resumeMax: 7, cuts: [0, 5, -1], feed })
 */
export async function checkResumeUnbounded<T>(
  make: () => Source<T>,
  o: { total: number; max: number; resumeMax: number; cuts: number[]; feed: () => Promise<void>; maxWaits?: number },
): Promise<{ resumed: { at: number; positions: unknown[] }[] }> {
  const maxWaits = o.maxWaits ?? 600
  const readUntil = async (reader: SourceReader<T>, got: { kind: number; value: T }[], total: number, max: number, after?: (read: boolean) => void | Promise<void>): Promise<void> => {
    for (let waits = 0; got.length < total; ) {
      const r = await reader.read(0, Math.min(max, total - got.length))
      assert.notEqual(r, END, 'an unbounded source ended')
      if (r !== null && r !== END) got.push(...entries(r))
      else if (++waits > maxWaits) assert.fail(`read ${got.length} of ${total} records`)
      // After an empty read too: the end of an initial snapshot is one (nothing is read there).
      await after?.(r !== null && r !== END)
    }
  }
  const straight: { kind: number; value: T }[] = []
  const cuts: { at: number; positions: unknown[] }[] = []
  const first = await make().open(context())
  try {
    const r = await first.read(0, o.max)
    if (r !== null && r !== END) straight.push(...entries(r))
    await o.feed()
    const take = () => {
      if (first.holdsBarriers?.() === true || cuts.at(-1)?.at === straight.length) return
      cuts.push({ at: straight.length, positions: JSON.parse(JSON.stringify(first.positions!())) as unknown[] })
    }
    take()
    await readUntil(first, straight, o.total, o.max, take)
  } finally {
    await first.close()
  }
  const chosen = [...new Set(o.cuts.map((c) => cuts[c < 0 ? cuts.length + c : Math.min(c, cuts.length - 1)]))].sort((a, b) => a.at - b.at)
  for (const cut of chosen) {
    const second = await make().open(context())
    try {
      await second.seek!(cut.positions)
      // As a restore followed by a checkpoint: the restored positions are taken at once and completed after
      // the first read (a source that confirms positions to its system, as CDC does, confirms the cut).
      second.positions?.()
      let completed = false
      const complete = async (read: boolean) => {
        if (completed || !read) return
        completed = true
        await second.onCheckpointComplete?.(1)
      }
      const rest: { kind: number; value: T }[] = []
      await readUntil(second, rest, o.total - cut.at, o.resumeMax, complete)
      assert.deepEqual([...straight.slice(0, cut.at), ...rest], straight, `resumed after record ${cut.at}`)
      const more = await second.read(0, o.resumeMax)
      assert.ok(more === null, `records after the last one, resumed after record ${cut.at}`)
    } finally {
      await second.close()
    }
  }
  return { resumed: chosen }
}
