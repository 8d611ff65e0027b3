import { keyId } from '../../core/key.ts'
import type { AggregateFunction } from './aggregate-function.ts'

/** A copy of an accumulator: numbers and other primitives as they are. */
const copy = <A>(a: A): A => (typeof a === 'object' && a !== null ? structuredClone(a) : a)

/** A record spread over a salted key: its key, the salt it drew and the record. */
export interface Salted<K, T> {
  k: K
  s: number
  v: T
}

/** What the first keyed step of a salted aggregate emits per key and salt: the key, the salt and a copy of the partial accumulator. */
export interface SaltedPartial<K, A> {
  k: K
  s: number
  acc: A
}

/** The key of the first step: the salt and the key in one string (cheaper to hash than a tuple), by type so 1 and '1' stay apart. */
export function saltedKey(x: Salted<unknown, unknown>): string {
  return `${x.s}|${typeof x.k}|${String(keyId(x.k))}`
}

/**
 * The first step of a salted aggregate: `fn` over one key and salt, emitting its accumulator (a copy, since the
 * accumulator changes in place and the copy is compared and sent on). Append-only: a record taken back would
 * have to find the salt it went to.
 */
export function saltedPartial<K, T, A>(fn: AggregateFunction<T, A, unknown>): AggregateFunction<Salted<K, T>, { k: K | undefined; s: number; acc: A }, SaltedPartial<K, A>> {
  return {
    name: `salted ${fn.name}`,
    create: () => ({ k: undefined, s: 0, acc: fn.create() }),
    add: (a, x) => {
      a.k = x.k
      a.s = x.s
      a.acc = fn.add(a.acc, x.v)
      return a
    },
    // An empty accumulator (a combiner's partial merged into a new row) takes the key and salt of the other.
    merge: (a, b) => ({ k: a.k === undefined ? b.k : a.k, s: a.k === undefined ? b.s : a.s, acc: fn.merge(a.acc, b.acc) }),
    result: (a) => ({ k: a.k as K, s: a.s, acc: copy(a.acc) }),
  }
}

/**
 * The second step of a salted aggregate: per key, the latest partial accumulator of each salt (a changelog from
 * the first step: -U takes a salt's old partial out, +U puts its new one in), merged into `fn`'s result.
 */
export function saltedMerge<K, A, R>(fn: AggregateFunction<any, A, R>): AggregateFunction<{ value: SaltedPartial<K, A> }, Map<number, A>, R> {
  return {
    name: fn.name,
    create: () => new Map(),
    add: (m, r) => m.set(r.value.s, r.value.acc),
    merge: (a, b) => {
      for (const [s, acc] of b) a.set(s, acc)
      return a
    },
    // Copies, since merge may change its first argument or return its second.
    result: (m) => {
      let acc = fn.create()
      for (const part of m.values()) acc = fn.merge(acc, copy(part))
      return fn.result(acc)
    },
    retract: (m, r) => {
      m.delete(r.value.s)
      return m
    },
  }
}
