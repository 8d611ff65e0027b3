import type { AggregateFunction } from './aggregate-function.ts'

/** A record spread over a salted key: its key, the salt it drew and the record. */
export interface Salted<K, T> {
  k: K
  s: number
  v: T
}

/** What the first keyed step of a salted aggregate emits per key and salt: the key and a copy of the partial accumulator. */
export interface SaltedPartial<K, A> {
  k: K
  acc: A
}

/**
 * The first step of a salted aggregate: `fn` over one key and salt, emitting its accumulator (a copy, since the
 * accumulator changes in place and the copy is compared and sent on). Append-only: a record taken back would
 * have to find the salt it went to.
 */
export function saltedPartial<K, T, A>(fn: AggregateFunction<T, A, unknown>): AggregateFunction<Salted<K, T>, { k: K | undefined; acc: A }, SaltedPartial<K, A>> {
  return {
    name: `salted ${fn.name}`,
    create: () => ({ k: undefined, acc: fn.create() }),
    add: (a, x) => {
      a.k = x.k
      a.acc = fn.add(a.acc, x.v)
      return a
    },
    merge: (a, b) => ({ k: a.k ?? b.k, acc: fn.merge(a.acc, b.acc) }),
    result: (a) => ({ k: a.k as K, acc: structuredClone(a.acc) }),
  }
}

/**
 * The second step of a salted aggregate: per key, the latest partial accumulator of each salt (a changelog from
 * the first step: -U takes a salt's old partial out, +U puts its new one in), merged into `fn`'s result.
 */
export function saltedMerge<K, A, R>(fn: AggregateFunction<any, A, R>): AggregateFunction<{ key: readonly [number, unknown]; value: SaltedPartial<K, A> }, Map<number, A>, R> {
  return {
    name: fn.name,
    create: () => new Map(),
    add: (m, r) => m.set(r.key[0], r.value.acc),
    merge: (a, b) => {
      for (const [s, acc] of b) a.set(s, acc)
      return a
    },
    // Copies, since merge may change its first argument or return its second.
    result: (m) => {
      let acc = fn.create()
      for (const part of m.values()) acc = fn.merge(acc, structuredClone(part))
      return fn.result(acc)
    },
    retract: (m, r) => {
      m.delete(r.key[0])
      return m
    },
  }
}
