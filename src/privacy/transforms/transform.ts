/** The kinds of field transform; lineage marks the output column as masked for all but `decrypt`. */
export type TransformKind = 'mask' | 'redact' | 'hash' | 'tokenize' | 'encrypt' | 'decrypt'

/**
 * One field transform: a pure function of the value, plus a description for lineage and the dashboard (kind
 * and options, never a key). `null` and `undefined` pass through unchanged.
 * @example
 * const card: FieldTransform = privacy.mask({ keepLast: 4 })
 * card.apply('4111111111111111') // '************1111'
 */
export interface FieldTransform {
  readonly kind: TransformKind
  apply(value: unknown): unknown
  /** Plain data: the kind and its options, safe to show (key ids, never key material). */
  describe(): Record<string, unknown>
}

/** Text of a non-null value, as the transforms see it: strings as they are, anything else as JSON. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return JSON.stringify(value) ?? String(value)
}
