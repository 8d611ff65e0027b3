import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { processAlive } from '../../core/folder-lock.ts'

/**
 * Temporary folders of durable state are named `sluice-state-<space>-<pid>-<random>`: the process that owns
 * them, and the space its pid means something in. On Linux the space is the pid namespace (processes of two
 * containers sharing a temporary folder have pids of different namespaces, and one must not judge the
 * other's by its own), elsewhere the host name.
 */
const PREFIX = 'sluice-state-'
const OWNED = /^sluice-state-([A-Za-z0-9]+)-(\d+)-/

/** This process's pid space, as a folder name allows. */
function pidSpace(): string {
  let ns: string | undefined
  try {
    ns = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1]
  } catch {
    // No /proc: not Linux.
  }
  return ns ?? 'h' + hostname().replace(/[^A-Za-z0-9]/g, '')
}

let swept = false

/**
 * A new temporary folder for a durable store of this process. The first call of a process also removes the
 * folders that processes no longer running left behind (a killed run cannot remove its own, and a store can
 * be gigabytes: a job restarted again and again after SIGKILLs would fill the disk).
 *
 * @example
 * const path = stateFolder() // <tmp>/sluice-state-<pid space>-<pid>-XXXXXX
 */
export function stateFolder(): string {
  if (!swept) {
    swept = true
    removeStaleFolders(tmpdir())
  }
  return mkdtempSync(join(tmpdir(), `${PREFIX}${pidSpace()}-${process.pid}-`))
}

/**
 * Removes the durable-state folders in `dir` whose process no longer runs; returns their names. Folders of
 * running processes, of another pid space, and folders named otherwise are left alone.
 *
 * @example
 * removeStaleFolders(tmpdir()) // ['sluice-state-4026531836-4242-a1B2c3']
 */
export function removeStaleFolders(dir: string): string[] {
  const removed: string[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return removed
  }
  const space = pidSpace()
  for (const name of names) {
    const m = OWNED.exec(name)
    const pid = Number(m?.[2] ?? NaN)
    if (m?.[1] !== space || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue
    try {
      rmSync(join(dir, name), { recursive: true, force: true })
      removed.push(name)
    } catch {
      // Another process's or unreadable: leave it.
    }
  }
  return removed
}
