import { userError } from '../../core/errors.ts'
import { textOf, type FieldTransform } from './transform.ts'

/**
 * How `mask` hides a value.
 * @example privacy.mask({ keepFirst: 2, keepLast: 2, char: '#' }).apply('DE89370400440532013000') // 'DE##################00'
 */
export interface MaskOptions {
  /** Characters kept at the end (e.g. 4 for a card number). Default 0. */
  keepLast?: number
  /** Characters kept at the start. Default 0. */
  keepFirst?: number
  /** The character written instead of each hidden one. Default `*`. */
  char?: string
  /** Keep separators such as `-`, space, `@` and `.` in place, so a masked value keeps its shape. Default false. */
  keepSeparators?: boolean
}

/**
 * Hides a value's characters, all or all but some at either end. The output has the input's length (counted
 * in code points), so it still fits the column; it is not reversible.
 * @example privacy.mask({ keepLast: 4 }).apply('4111 1111 1111 1234') // '***************1234'
 */
export function mask(options: MaskOptions = {}): FieldTransform {
  const keepLast = options.keepLast ?? 0
  const keepFirst = options.keepFirst ?? 0
  const char = options.char ?? '*'
  for (const [name, n] of [['keepLast', keepLast], ['keepFirst', keepFirst]] as const) {
    if (!Number.isInteger(n) || n < 0) throw userError('SLUICE_BAD_OPTION', `mask: '${name}' must be a whole number of characters, got ${String(n)}`)
  }
  if (typeof char !== 'string' || [...char].length !== 1) throw userError('SLUICE_BAD_OPTION', "mask: 'char' must be one character")
  const keepSeparators = options.keepSeparators === true
  const separator = /[\s\-@._/:]/
  const surrogate = /[\uD800-\uDFFF]/
  return {
    kind: 'mask',
    apply(value) {
      if (value === null || value === undefined) return value
      const text = textOf(value)
      // Strings without surrogate pairs (nearly all) are cut by UTF-16 index; others by code point.
      const chars: string | string[] = surrogate.test(text) ? [...text] : text
      const n = chars.length
      if (keepFirst + keepLast >= n) return keepFirst + keepLast === 0 ? '' : char.repeat(n)
      const head = keepFirst > 0 ? chars.slice(0, keepFirst) : ''
      const tail = keepLast > 0 ? chars.slice(n - keepLast) : ''
      let middle: string
      if (!keepSeparators) middle = char.repeat(n - keepFirst - keepLast)
      else {
        middle = ''
        for (let i = keepFirst; i < n - keepLast; i++) middle += separator.test(chars[i]) ? chars[i] : char
      }
      return (typeof head === 'string' ? head : head.join('')) + middle + (typeof tail === 'string' ? tail : tail.join(''))
    },
    describe: () => ({ kind: 'mask', keepFirst, keepLast, char, keepSeparators }),
  }
}

/**
 * Removes a value: replaced by `replacement` (default `null`).
 * @example privacy.redact().apply('555-0100') // null
 */
export function redact(replacement: string | null = null): FieldTransform {
  return {
    kind: 'redact',
    apply: (value) => (value === null || value === undefined ? value : replacement),
    describe: () => ({ kind: 'redact', replacement }),
  }
}
