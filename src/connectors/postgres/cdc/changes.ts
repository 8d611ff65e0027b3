import { DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, type RowKind } from '../../../core/batch.ts'

/**
 * One change of a captured table, as `source.postgresCdc` emits it: the table (`schema.name`) and the row.
 * Inserts are +I, updates -U (the row before, when the table's replica identity gives it) then +U, deletes
 * -D (the whole row with `REPLICA IDENTITY FULL`, else only the key columns).
 * @example
 * p.from(source.postgresCdc({ url, slot: 'shop', publication: 'shop', tables: ['public.orders'] }))
 *   .filter((c: CdcChange) => c.table === 'public.orders' && c.row.status === 'paid')
 */
export interface CdcChange {
  table: string
  row: Record<string, unknown>
}

/** A change in the order the source hands them out; `commit` ends a transaction. */
export type Pending = { kind: RowKind; change: CdcChange; lsn: string } | { commit: string }

const INT8 = 20

/** Column values as `pg` parses them, but 64-bit integers as numbers when they fit (bigints otherwise). */
export function normalize(row: Record<string, unknown>, columns: readonly { name: string; typeOid: number }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const c of columns) {
    const v = row[c.name]
    out[c.name] = c.typeOid === INT8 && typeof v === 'string' ? int8(v) : v
  }
  return out
}

export function int8(v: string): number | bigint {
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : BigInt(v)
}

interface Relation {
  schema: string
  name: string
  columns: { name: string; typeOid: number }[]
}

/** The records one decoded pgoutput change gives, in order (an update with a before image gives two). */
export function changesOf(
  msg: { tag: string; relation?: Relation; new?: Record<string, unknown> | null; old?: Record<string, unknown> | null; key?: Record<string, unknown> | null },
): { kind: RowKind; change: CdcChange }[] {
  const rel = msg.relation
  if (rel === undefined) return []
  const table = `${rel.schema}.${rel.name}`
  const row = (r: Record<string, unknown>) => ({ table, row: normalize(r, rel.columns) })
  const keyOnly = (k: Record<string, unknown>) => {
    const out: Record<string, unknown> = {}
    for (const c of rel.columns) if (k[c.name] !== undefined) out[c.name] = c.typeOid === INT8 && typeof k[c.name] === 'string' ? int8(k[c.name] as string) : k[c.name]
    return { table, row: out }
  }
  switch (msg.tag) {
    case 'insert':
      return [{ kind: INSERT, change: row(msg.new!) }]
    case 'update': {
      const before = msg.old ?? null
      return before === null ? [{ kind: UPDATE_AFTER, change: row(msg.new!) }] : [{ kind: UPDATE_BEFORE, change: row(before) }, { kind: UPDATE_AFTER, change: row(msg.new!) }]
    }
    case 'delete':
      return [{ kind: DELETE, change: msg.old ? row(msg.old) : keyOnly(msg.key ?? {}) }]
    default:
      return []
  }
}
