import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { committedParts } from '../../src/connectors/files/part-files.ts'

/** What fixtures/combine-restore.ts committed under `out`: each auction's last count, and every window row, sorted. */
export async function committedOutput(out: string): Promise<{ counts: Record<string, number>; windows: string[] }> {
  const counts: Record<string, number> = {}
  // A count only grows: an auction's largest value in the changelog is its last.
  for (const line of await lines(join(out, 'counts'))) {
    const row = JSON.parse(line) as { key: number; value: number }
    counts[row.key] = Math.max(counts[row.key] ?? 0, row.value)
  }
  return { counts, windows: (await lines(join(out, 'windows'))).sort() }
}

async function lines(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const f of await committedParts(dir)) for (const l of (await readFile(f, 'utf8')).split('\n')) if (l !== '') out.push(l)
  return out
}
