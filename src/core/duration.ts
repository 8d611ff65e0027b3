import { userError } from './errors.ts'

/**
 * A duration: milliseconds as a number (or a string of digits), or a string such as '250ms', '10s', '5m', '1h', '1d', '1h30m'.
 * @example window.session({ gap: '30m' }) // the same as { gap: 1_800_000 }
 */
export type Duration = number | string

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y

/**
 * Parses a duration to milliseconds. `where` names the step or option for the error message.
 * @example parseDuration('1m30s', 'window') // 90000
 */
export function parseDuration(d: Duration, where: string, opts: { allowNegative?: boolean; allowZero?: boolean } = {}): number {
  let ms: number
  if (typeof d === 'number') {
    ms = d
  } else if (typeof d === 'string' && /^\d+(\.\d+)?$/.test(d.trim())) {
    ms = Number(d.trim())
  } else if (typeof d === 'string') {
    const s = d.trim()
    let sign = 1
    let i = 0
    if (s.startsWith('-') || s.startsWith('+')) {
      sign = s[0] === '-' ? -1 : 1
      i = 1
    }
    let total = 0
    let matched = false
    part.lastIndex = i
    while (part.lastIndex < s.length) {
      const m = part.exec(s)
      if (m === null) {
        matched = false
        break
      }
      total += Number(m[1]) * units[m[2]]
      matched = true
    }
    if (!matched) {
      throw userError('SLUICE_BAD_DURATION', `${where}: invalid duration '${d}'`, {
        hint: "use milliseconds as a number, or a string like '500ms', '10s', '5m', '1h', '2d' or '1h30m'",
      })
    }
    ms = sign * total
  } else {
    throw userError('SLUICE_BAD_DURATION', `${where}: a duration must be a number of milliseconds or a string, got ${typeof d}`)
  }
  if (!Number.isFinite(ms)) throw userError('SLUICE_BAD_DURATION', `${where}: duration must be finite, got ${String(d)}`)
  if (ms < 0 && !opts.allowNegative) throw userError('SLUICE_BAD_DURATION', `${where}: duration must not be negative, got ${String(d)}`)
  if (ms === 0 && opts.allowZero === false) throw userError('SLUICE_BAD_DURATION', `${where}: duration must be greater than zero`)
  return ms
}
