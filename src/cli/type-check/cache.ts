import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Remembers pipelines that passed the type check: for each, the hash of the compiler options and of
 * every source file the check read outside node_modules. A later check whose hashes all match is
 * skipped. Installed packages count through `versions` (TypeScript's and Sluice's), not file by file.
 */
export class CheckCache {
  private readonly dir: string

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = join(env.SLUICE_CACHE_DIR ?? join(tmpdir(), 'sluice-cache'), 'check')
  }

  /** Whether `pipelineFile` passed under `configKey` and none of the files it read has changed since. */
  passed(pipelineFile: string, configKey: string): boolean {
    let entry: { config: string; files: Record<string, string> }
    try {
      entry = JSON.parse(readFileSync(this.entryPath(pipelineFile), 'utf8')) as typeof entry
    } catch {
      return false
    }
    if (entry.config !== configKey) return false
    for (const [file, hash] of Object.entries(entry.files)) if (fileHash(file) !== hash) return false
    return true
  }

  /** Records a passed check of `pipelineFile` that read `files`. Written atomically; failures to write are ignored. */
  remember(pipelineFile: string, configKey: string, files: readonly string[]): void {
    const entry = { config: configKey, files: Object.fromEntries(files.map((f) => [f, fileHash(f)])) }
    try {
      mkdirSync(this.dir, { recursive: true })
      const path = this.entryPath(pipelineFile)
      const tmp = `${path}.${process.pid}.tmp`
      writeFileSync(tmp, JSON.stringify(entry))
      renameSync(tmp, path)
    } catch {
      // A cache that cannot be written only costs the next run a check.
    }
  }

  private entryPath(pipelineFile: string): string {
    return join(this.dir, `${sha256(pipelineFile).slice(0, 32)}.json`)
  }
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex')
}

function fileHash(file: string): string | undefined {
  try {
    return sha256(readFileSync(file))
  } catch {
    return undefined
  }
}
