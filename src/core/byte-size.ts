import { userError } from './errors.ts'

/**
 * A size: bytes as a number, or a string such as '512MB', '1.5GB', '64KiB' (KB/MB/GB count 1024s, as memory does).
 * @example await run(p, { state: { backend: 'heap', memoryBudget: '512MB' } }) // or 536_870_912
 */
export type ByteSize = number | string

const units: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 }

/**
 * Parses a size to bytes; `where` names the option for the error message.
 * @example parseByteSize('512MB', 'state.memoryBudget') // 536870912
 */
export function parseByteSize(s: ByteSize, where: string): number {
  let bytes = NaN
  if (typeof s === 'number') bytes = s
  else if (typeof s === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s)
    const unit = m === null ? undefined : units[m[2].toLowerCase() || 'b']
    if (m !== null && unit !== undefined) bytes = Math.round(Number(m[1]) * unit)
  }
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw userError('SLUICE_BAD_OPTION', `${where}: invalid size '${String(s)}'`, { hint: "give bytes as a number, or a size such as '512MB' or '2GB'" })
  }
  return bytes
}
