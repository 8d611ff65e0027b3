/**
 * One reason a reader cannot read what a writer wrote: where (a path of field names, `/` separated), what
 * kind of break (stable, for matching), and a sentence for people. Never holds record contents.
 */
export interface Difference {
  path: string
  kind: string
  message: string
}

/** The compatibility modes of the Confluent Schema Registry. */
export const COMPATIBILITY_LEVELS = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number]

export function isCompatibilityLevel(s: unknown): s is CompatibilityLevel {
  return typeof s === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(s)
}

/** Joins a path and a segment. */
export function at(path: string, segment: string): string {
  return path === '' ? segment : `${path}/${segment}`
}
