import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
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
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw locked(`process ${pid}`)
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

/**
 * Takes a lock file for this process, synchronously: the file holds our pid and host name, created exclusively.
 * A lock left by a process of this host that no longer runs is taken over; one of another host (a shared
 * folder) is never, since whether it runs cannot be told from here. `locked(by)` makes the error when another
 * holder ('this process', 'process <pid> on <host>') has it. Returns the release.
 * @example const release = lockFileSync('runs.db.lock', (by) => new SluiceError('SLUICE_WORKFLOW_LOCKED', `in use by ${by}`)); release()
 */
export function lockFileSync(path: string, locked: (by: string) => SluiceError): () => void {
  if (held.has(path)) throw locked('this process')
  const host = hostname()
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      try {
        writeSync(fd, `${process.pid}\n${host}\n`)
      } finally {
        closeSync(fd)
      }
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      let text = ''
      try {
        text = readFileSync(path, 'utf8')
      } catch {
        // removed by its holder in between: try again
      }
      const [pidText = '', holderHost = host] = text.split('\n').map((l) => l.trim())
      const pid = Number(pidText)
      const known = Number.isInteger(pid) && pid > 0
      const by = known ? `process ${pid} on ${holderHost === '' ? host : holderHost}` : 'another process'
      if (known && holderHost !== '' && holderHost !== host) throw locked(by)
      if (known && pid !== process.pid && processAlive(pid)) throw locked(by)
      // Another process took over the same stale lock between our two attempts.
      if (attempt > 0) throw locked(by)
      rmSync(path, { force: true })
    }
  }
  held.add(path)
  return () => {
    if (!held.delete(path)) return
    rmSync(path, { force: true })
  }
}

/**
 * Whether process `pid` of this host runs (one of another user counts as running).
 * @example if (!processAlive(4242)) console.log('its lock is stale')
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
