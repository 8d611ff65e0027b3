import { SluiceError } from '../core/errors.ts'
import { lockFolder } from '../core/folder-lock.ts'

/**
 * Takes the log folder for this process: a `LOCK` file holding our pid. A lock left by a process that
 * no longer runs (it crashed) is taken over.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  return lockFolder(dir, (by) => locked(dir, by))
}

function locked(dir: string, by: string): SluiceError {
  return new SluiceError('SLUICE_LOG_LOCKED', `the log in '${dir}' is open in ${by}`, {
    domain: 'user',
    retryable: true,
    hint: 'close the other log first; one process at a time may open a log folder',
  })
}
