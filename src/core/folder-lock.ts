import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { SluiceError } from './errors.ts'

const held = new Set<string>()

/**
 * Takes a folder for this process: a `LOCK` file holding our pid, created exclusively. A lock left by a
 * process that no longer runs (it crashed) is taken over. `locked(by)` makes the error when another holder
 * ('this process', or 'process <pid>') has it. Returns the release.
 * @example const release = await lockFolder(dir, (by) => new SluiceError('SLUICE_LOG_LOCKED', `open in ${by}`)); await release()
 */
export async function lockFolder(dir: string, locked: (by: string) => SluiceError): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK')
  if (held.has(path)) throw locked('this process')
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx')
      await fh.writeFile(`${process.pid}\n`)
      await fh.close()
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw locked(`process ${pid}`)
      // Another process took over the same stale lock between our two attempts.
      if (attempt > 0) throw locked(Number.isInteger(pid) && pid > 0 ? `process ${pid}` : 'another process')
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
