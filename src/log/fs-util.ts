import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Makes a directory entry change (create, rename, unlink) durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Replaces `path` atomically and durably: writes a temporary file beside it, fsyncs it, renames it
 * over `path` and fsyncs the folder. A crash leaves either the old content or the new, never a mix.
 */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (e) {
    await fh.close()
    await rm(tmp, { force: true })
    throw e
  }
  await fh.close()
  await rename(tmp, path)
  await syncDir(dirname(path))
}

export function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
