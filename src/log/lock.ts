import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'

const held = new Set<string>()

/**
 * Takes the log folder for this process: a `LOCK` file holding our pid. A lock left by a process that
 * no longer runs (it crashed) is taken over.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK')
  if (held.has(path)) throw locked(dir, 'this process')
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx')
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw locked(dir, `process ${pid}`)
      await rm(path, { force: true })
    }
  }
  held.add(path)
  return async () => {
    held.delete(path)
    await rm(path, { force: true })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function locked(dir: string, by: string): SluiceError {
  return new SluiceError('SLUICE_LOG_LOCKED', `the log in '${dir}' is open in ${by}`, {
    domain: 'user',
    retryable: true,
    hint: 'close the other log first; one process at a time may open a log folder',
  })
}
