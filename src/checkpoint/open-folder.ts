import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { checkpointStorageFor } from './object-storage.ts'
import { objectSavepointExists, readObjectSavepoint } from './object-savepoint.ts'
import { isS3Url } from './s3-location.ts'
import { readCheckpointFolder, type CheckpointRead } from './storage.ts'

/**
 * A savepoint or checkpoint folder (one with a manifest; in a bucket, a prefix with a manifest), or a checkpoint
 * directory (a folder or an s3:// URL): its newest complete checkpoint. Relative paths are taken from `cwd`.
 * @example const read = await openStateFolder('savepoints/before-upgrade')
 */
export async function openStateFolder(arg: string, cwd: string = process.cwd()): Promise<CheckpointRead> {
  if (isS3Url(arg)) return (await objectSavepointExists(arg)) ? readObjectSavepoint(arg) : latest(arg)
  const dir = resolve(cwd, arg)
  if (!existsSync(dir)) throw new SluiceError('SLUICE_NO_CHECKPOINT_DIR', `'${arg}' does not exist`)
  if (existsSync(join(dir, 'manifest.json'))) return readCheckpointFolder(dir)
  return latest(dir)
}

async function latest(dir: string): Promise<CheckpointRead> {
  const { read } = await checkpointStorageFor(dir).latest(() => {})
  if (read === undefined) throw new SluiceError('SLUICE_CHECKPOINT_CORRUPT', `no complete checkpoint in '${dir}'`, { domain: 'external', hint: 'give a savepoint folder or a chk-… folder' })
  return read
}
