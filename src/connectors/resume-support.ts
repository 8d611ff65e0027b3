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

