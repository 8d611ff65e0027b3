/**
 * The field that marks a combiner's partial accumulator among the records that cross a keyed exchange. It
 * survives the exchange's serialization, so the step after it tells partials from records one by one: a
 * partial is merged, anything else is added as a record (a combiner that passes records through, or records
 * held in a checkpoint taken at another parallelism or without the combiner).
 */
export const PARTIAL = 'sluice:partial'

/** Is `v` a combiner's partial accumulator (see PARTIAL)? */
export function isPartial(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[PARTIAL] === 1
}

/**
 * Partials are made by this class on the subtask that keys them, so the key of the exchange after a combiner
 * knows them by their prototype (which a lineage probe does not see as a field read) before they are copied.
 */
export class PartialRecord<K> {
  readonly 'sluice:partial' = 1
  readonly key: K
  constructor(key: K) {
    this.key = key
  }
}

/**
 * The key of the exchange after a combiner: a partial's own key, or `keyFn` of a record passed through.
 * @example keyBy(partialOrKey((b: Bid) => b.auction))
 */
export function partialOrKey<T, K>(keyFn: (value: T) => K): (value: T | PartialRecord<K>) => K {
  return (v) => (v instanceof PartialRecord ? v.key : keyFn(v as T))
}
