import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogLogger } from './options.ts'

/** A fresh folder for one test, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-test-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** A logger that keeps its lines, for assertions. */
export function memoryLogger(): LogLogger & { lines: string[] } {
  const lines: string[] = []
  return { lines, warn: (m: string) => void lines.push(m) }
}

export function values(n: number, from = 0, prefix = 'v'): { value: string }[] {
  return Array.from({ length: n }, (_, i) => ({ value: `${prefix}${from + i}` }))
}
