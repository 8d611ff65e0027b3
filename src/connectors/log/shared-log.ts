import { resolve } from 'node:path'
import { openLog, type Log, type LogOptions } from '../../log/index.ts'

/**
 * One open log per folder in this process, shared by the sources and sinks that use it (a log folder
 * can be opened once per process). The last `release` closes it.
 */
const open = new Map<string, { log: Promise<Log>; refs: number }>()

export interface LogRef {
  readonly log: Log
  release(): Promise<void>
}

export async function acquireLog(dir: string, options: LogOptions | undefined): Promise<LogRef> {
  const key = resolve(dir)
  let entry = open.get(key)
  if (entry === undefined) {
    entry = { log: openLog(dir, options), refs: 0 }
    open.set(key, entry)
    entry.log.catch(() => open.delete(key))
  }
  entry.refs++
  let log: Log
  try {
    log = await entry.log
  } catch (e) {
    entry.refs--
    throw e
  }
  let released = false
  return {
    log,
    async release() {
      if (released) return
      released = true
      if (--entry.refs === 0) {
        open.delete(key)
        await log.close()
      }
    },
  }
}
