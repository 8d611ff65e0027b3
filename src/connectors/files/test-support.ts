import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Position } from '../../core/batch.ts'
import { END, type Source, type SourceContext } from '../../core/source.ts'
import type { FileSourceReader } from './file-source.ts'

/** Runs `fn` with a fresh temporary folder, removed afterwards. For the file source tests. */
export async function withTempDir<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-files-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface Drained<T> {
  /** Values and positions per partition, in read order. */
  values: T[][]
  pos: Position[][]
  malformed: { error: string; code: string | undefined; raw: string | Uint8Array; position: Position }[]
  reader: FileSourceReader<T>
}

/** Opens a bounded source outside a pipeline and reads every partition to its end. */
export async function drain<T>(source: Source<T>, max = 1000): Promise<Drained<T>> {
  const malformed: Drained<T>['malformed'] = []
  const ctx: SourceContext = {
    pipeline: 'test',
    stepId: 'source-1',
    signal: new AbortController().signal,
    malformed: (error, raw, position) => malformed.push({ error: error instanceof Error ? error.message : String(error), code: (error as { code?: string } | null)?.code, raw, position }),
  }
  const reader = (await source.open(ctx)) as FileSourceReader<T>
  const values: T[][] = []
  const pos: Position[][] = []
  try {
    for (let p = 0; p < reader.partitions; p++) {
      values.push([])
      pos.push([])
      for (;;) {
        const r = await reader.read(p, max)
        if (r === END) break
        if (r === null) throw new Error('a bounded source returned null')
        values[p].push(...r.values)
        pos[p].push(...(r.pos ?? []))
      }
    }
  } finally {
    await reader.close()
  }
  return { values, pos, malformed, reader }
}
