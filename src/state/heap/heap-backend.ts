import type { ListState, MapState, StateBackend, StateSnapshot, ValueState } from '../backend.ts'

/** Keyed state on the JavaScript heap: the default, fastest backend. */
export class HeapStateBackend implements StateBackend {
  readonly kind = 'heap'
  private readonly tables = new Map<string, Map<unknown, unknown>>()

  private table(name: string): Map<unknown, unknown> {
    let t = this.tables.get(name)
    if (t === undefined) {
      t = new Map()
      this.tables.set(name, t)
    }
    return t
  }

  value<T>(name: string): ValueState<T> {
    const t = this.table(`value:${name}`)
    return {
      get: (key) => t.get(key) as T | undefined,
      set: (key, value) => void t.set(key, value),
      delete: (key) => void t.delete(key),
    }
  }

  map<K, V>(name: string): MapState<K, V> {
    const t = this.table(`map:${name}`) as Map<unknown, Map<K, V>>
    return {
      get: (key, field) => t.get(key)?.get(field),
      set: (key, field, value) => {
        let m = t.get(key)
        if (m === undefined) t.set(key, (m = new Map()))
        m.set(field, value)
      },
      delete: (key, field) => {
        const m = t.get(key)
        if (m === undefined) return
        m.delete(field)
        if (m.size === 0) t.delete(key)
      },
      entries: (key) => t.get(key)?.entries() ?? [],
      clear: (key) => void t.delete(key),
    }
  }

  list<T>(name: string): ListState<T> {
    const t = this.table(`list:${name}`) as Map<unknown, T[]>
    const empty: readonly T[] = Object.freeze([])
    return {
      get: (key) => t.get(key) ?? empty,
      add: (key, value) => {
        const l = t.get(key)
        if (l === undefined) t.set(key, [value])
        else l.push(value)
      },
      set: (key, values) => void (values.length === 0 ? t.delete(key) : t.set(key, values.slice())),
      clear: (key) => void t.delete(key),
    }
  }

  keys(name: string): Iterable<unknown> {
    for (const prefix of ['value:', 'map:', 'list:']) {
      const t = this.tables.get(prefix + name)
      if (t !== undefined) return t.keys()
    }
    return []
  }

  sizes(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [name, t] of this.tables) out[name] = t.size
    return out
  }

  snapshot(): StateSnapshot {
    const out: StateSnapshot = {}
    for (const [name, t] of this.tables) {
      out[name] = [...t].map(([k, v]) => [k, v instanceof Map ? { $map: [...v] } : Array.isArray(v) ? v.slice() : v])
    }
    return structuredClone(out)
  }

  restore(snapshot: StateSnapshot): void {
    this.tables.clear()
    for (const [name, entries] of Object.entries(structuredClone(snapshot))) {
      const t = new Map<unknown, unknown>()
      for (const [k, v] of entries) {
        const isMap = typeof v === 'object' && v !== null && '$map' in v
        t.set(k, isMap ? new Map((v as { $map: [unknown, unknown][] }).$map) : v)
      }
      this.tables.set(name, t)
    }
  }
}
