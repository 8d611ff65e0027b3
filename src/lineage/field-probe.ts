/** Where one output field of a user function comes from: an input's field, copied as is or transformed. */
export interface FieldSource {
  /** Which argument of the function (0 for `map`; 0 left, 1 right for a join). */
  input: number
  /** Dotted path of the field in that input; '' for the whole input record. */
  path: string
  /** True when the output holds the input's value unchanged. */
  identity: boolean
}

/** What a probe learnt about a function: which input fields make which output fields. */
export interface ProbeResult {
  /** Per top-level output field ('' when the output is not an object): the input fields it comes from. */
  fields: Map<string, FieldSource[]>
  /** Input fields read that no output field comes from: conditions, filters, keys. */
  indirect: { input: number; path: string }[]
  /** Inputs the output copies with `{ ...record }` or returns whole: their other fields pass through. */
  passthrough: number[]
}

const ORIGIN = Symbol('sluice.lineage.origin')
/** Reads followed at most (perturbation runs are one call each). */
const MAX_READS = 64

interface Origin {
  input: number
  path: string
  seed: number
}

class ProbeRun {
  readonly perturbed: string | undefined
  readonly known: readonly (readonly string[] | undefined)[]
  readonly reads = new Set<string>()
  /** Paths used as containers (a field of them was read): not reads in themselves. */
  readonly containers = new Set<string>()
  /** Paths used as values (a number, a string). */
  readonly usedAsValue = new Set<string>()
  readonly spread = new Set<number>()

  constructor(known: readonly (readonly string[] | undefined)[], perturbed?: string) {
    this.known = known
    this.perturbed = perturbed
  }

  /** The stand-in for the record given as argument `input`. */
  record(input: number): object {
    const known = this.known[input] ?? []
    return new Proxy(
      {},
      {
        get: (_t, prop) => {
          if (prop === ORIGIN) return { input, path: '', seed: 0 } satisfies Origin
          if (typeof prop === 'symbol') return undefined
          if (prop === 'toJSON') return undefined
          return this.value(input, prop)
        },
        has: () => true,
        ownKeys: () => {
          if (known.length === 0) this.spread.add(input)
          return [...known]
        },
        getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' && known.includes(prop) ? { value: this.value(input, prop), enumerable: true, configurable: true, writable: true } : undefined),
      },
    )
  }

  /** The stand-in for a field: a distinct number or string when used as one, and a record of its own fields. */
  value(input: number, path: string): unknown {
    const key = `${input}:${path}`
    this.reads.add(key)
    const seed = this.perturbed === key ? 1 : 0
    const str = `\u2063${key}#${seed}`
    const num = 1 + (hash(key) % 100_000) + seed / 2
    const use = () => this.usedAsValue.add(key)
    return new Proxy(
      {},
      {
        get: (_t, prop) => {
          if (prop === ORIGIN) return { input, path, seed } satisfies Origin
          if (prop === Symbol.toPrimitive) return (hint: string) => (use(), hint === 'number' ? num : str)
          if (prop === 'valueOf') return () => (use(), num)
          if (prop === 'toString' || prop === 'toJSON') return () => (use(), str)
          if (typeof prop === 'symbol') return undefined
          if (prop in String.prototype) {
            use()
            const v = (str as unknown as Record<string, unknown>)[prop]
            return typeof v === 'function' ? v.bind(str) : v
          }
          this.containers.add(key)
          return this.value(input, `${path}.${prop}`)
        },
        has: () => true,
      },
    )
  }

  /** The reads that matter: fields used as values, not the objects that hold them. */
  leafReads(): string[] {
    return [...this.reads].filter((k) => !this.containers.has(k) || this.usedAsValue.has(k))
  }
}

function hash(s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

function originOf(v: unknown): Origin | undefined {
  if (v === null || typeof v !== 'object') return undefined
  return (v as Record<symbol, Origin | undefined>)[ORIGIN]
}

/** The output's fields: an object's own fields, or the whole output under ''. */
function outputFields(out: unknown): Map<string, unknown> {
  if (out !== null && typeof out === 'object' && originOf(out) === undefined && !Array.isArray(out)) return new Map(Object.entries(out))
  return new Map([['', out]])
}

/** A comparable text for a value; stand-ins by their origin and seed. */
function canonical(v: unknown, depth = 0): string {
  const o = originOf(v)
  if (o !== undefined) return `<${o.input}:${o.path}#${o.seed}>`
  if (v === null || typeof v !== 'object') return `${typeof v}:${String(v)}`
  if (depth > 8) return '…'
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, depth + 1)).join(',')}]`
  return `{${Object.keys(v).sort().map((k) => `${k}=${canonical((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`
}

/**
 * Finds which input fields make which output fields of an opaque function, by calling it with stand-in
 * records that note every field read: an output field that holds an input's stand-in is a copy (identity);
 * for the others the function is called again with one read field changed at a time, and the output fields
 * that change come from it. Fields read that change no output field are indirect (a condition). `known` lists
 * the fields of each input when known (a contract's), so that `{ ...record }` copies them.
 * Throws what the function throws; the function must have no side effects that matter.
 * @example probeFields((r) => ({ page: r.url, n: r.count * 2 }), 1).fields // page <- url (identity), n <- count
 */
export function probeFields(fn: (...inputs: any[]) => unknown, inputs: number, known: readonly (readonly string[] | undefined)[] = []): ProbeResult {
  const base = new ProbeRun(known)
  const out = fn(...Array.from({ length: inputs }, (_, i) => base.record(i)))
  const fields = new Map<string, FieldSource[]>()
  const baseFields = outputFields(out)
  const passthrough = new Set(base.spread)
  const o = originOf(out)
  if (o !== undefined && o.path === '') passthrough.add(o.input)
  const opaque: string[] = []
  for (const [name, v] of baseFields) {
    const origin = originOf(v)
    if (origin !== undefined && name === '' && origin.path === '') continue // the record itself: passed through
    if (origin !== undefined) fields.set(name, [{ input: origin.input, path: origin.path, identity: true }])
    else opaque.push(name)
  }
  const reads = base.leafReads().slice(0, MAX_READS)
  const used = new Set<string>()
  for (const f of fields.values()) for (const s of f) used.add(`${s.input}:${s.path}`)
  for (const key of reads) {
    if (opaque.length === 0) break
    const run = new ProbeRun(known, key)
    let changed: Map<string, unknown> | undefined
    try {
      changed = outputFields(fn(...Array.from({ length: inputs }, (_, i) => run.record(i))))
    } catch {
      changed = undefined
    }
    const [input, path] = splitKey(key)
    for (const name of opaque) {
      if (changed !== undefined && canonical(changed.get(name)) === canonical(baseFields.get(name))) continue
      const list = fields.get(name) ?? []
      list.push({ input, path, identity: false })
      fields.set(name, list)
      used.add(key)
    }
  }
  for (const name of opaque) if (!fields.has(name)) fields.set(name, [])
  const indirect = reads.filter((k) => !used.has(k)).map((k) => {
    const [input, path] = splitKey(k)
    return { input, path }
  })
  return { fields, indirect, passthrough: [...passthrough] }
}

function splitKey(key: string): [number, string] {
  const i = key.indexOf(':')
  return [Number(key.slice(0, i)), key.slice(i + 1)]
}
