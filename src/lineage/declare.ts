/** The property under which a function or a process object carries its declared column lineage. */
export const COLUMNS = Symbol.for('sluice.lineage.columns')

/** How a declared output field is made from input fields. */
export type ColumnTransformation = 'identity' | 'transformation' | 'aggregation'

/**
 * Output field -> the input field(s) it comes from (`'price'`, `['price', 'qty']`, or with its transformation).
 * @example orders.map(columns((o) => ({ id: o.id, total: o.price * o.qty }), { id: 'id', total: ['price', 'qty'] }))
 */
export type ColumnMapping = Record<string, string | readonly string[] | { from: readonly string[]; transformation?: ColumnTransformation; masking?: boolean }>

/** A step's declared column lineage. */
export interface DeclaredColumns {
  fields: ColumnMapping
  /** The input's other fields pass through unchanged (`{ ...record, extra }`). */
  passthrough?: boolean
}

/**
 * Declares which input fields make which output fields of a user function (for `map`, `flatMap`, a process
 * function object): lineage takes it instead of probing the function, and warns where the probe sees the
 * function read a field the declaration leaves out. A single field is a copy (identity) when its name is the
 * input's; several are a transformation.
 * @example orders.map(columns((o) => ({ id: o.id, total: o.price * o.qty }), { id: 'id', total: ['price', 'qty'] }))
 */
export function columns<F extends object>(fn: F, fields: ColumnMapping, options: { passthrough?: boolean } = {}): F {
  Object.defineProperty(fn, COLUMNS, { value: { fields, ...(options.passthrough === true ? { passthrough: true } : {}) } satisfies DeclaredColumns, enumerable: false })
  return fn
}

/** The declared column lineage of a function or object, if any. */
export function declaredColumns(x: unknown): DeclaredColumns | undefined {
  if ((typeof x !== 'function' && typeof x !== 'object') || x === null) return undefined
  return (x as Record<symbol, DeclaredColumns | undefined>)[COLUMNS]
}
