import fc from 'fast-check'

/**
 * Random Avro schemas from a small space (few field names, types and symbols), so that random pairs are often
 * related: the same record with fields added, removed, promoted, made optional, enums grown or shrunk.
 * For property tests of schema compatibility.
 */
export function avroSchemaArbitrary(): fc.Arbitrary<object> {
  const primitive = fc.constantFrom('null', 'boolean', 'int', 'long', 'float', 'double', 'string', 'bytes')
  // Named types are named after the field that holds them: the same field in two versions has the same name.
  const enumType = (at: string) =>
    fc.record({ symbols: fc.subarray(['X', 'Y', 'Z'], { minLength: 1 }), withDefault: fc.boolean() }).map(({ symbols, withDefault }) => ({ type: 'enum', name: `E_${at}`, symbols, ...(withDefault ? { default: symbols[0] } : {}) }))
  const fixedType = (at: string) => fc.constantFrom(4, 8).map((size) => ({ type: 'fixed', name: `F_${at}`, size }))
  const leaf = (at: string): fc.Arbitrary<unknown> => fc.oneof({ weight: 5, arbitrary: primitive }, { weight: 1, arbitrary: enumType(at) }, { weight: 1, arbitrary: fixedType(at) })
  const container = (at: string) =>
    fc.oneof(
      leaf(at).map((items) => ({ type: 'array', items })),
      leaf(at).map((values) => ({ type: 'map', values })),
      fc.uniqueArray(primitive, { minLength: 2, maxLength: 3 }),
    )
  const nested = (at: string) => fields(leaf, ['x', 'y'], at).map((fs) => ({ type: 'record', name: `N_${at}`, fields: fs }))
  const fieldType = (at: string) => fc.oneof({ weight: 4, arbitrary: leaf(at) }, { weight: 2, arbitrary: container(at) }, { weight: 1, arbitrary: nested(at) })
  return fields(fieldType, ['a', 'b', 'c', 'd'], '').map((fs) => ({ type: 'record', name: 'R', namespace: 'test', fields: fs }))
}

function fields(type: (at: string) => fc.Arbitrary<unknown>, names: string[], prefix: string): fc.Arbitrary<object[]> {
  return fc
    .subarray(names)
    .chain((ns) => fc.tuple(...ns.map((name) => fc.record({ type: type(prefix + name), withDefault: fc.boolean() }).map(({ type, withDefault }) => field(name, type, withDefault)))))
    .map((fs) => fs as object[])
}

function field(name: string, type: unknown, withDefault: boolean): object {
  const d = withDefault ? defaultFor(type) : undefined
  return d === undefined ? { name, type } : { name, type, default: d.value }
}

/** A valid default for a type, or undefined where none is simple to make (records, fixed). */
function defaultFor(type: unknown): { value: unknown } | undefined {
  if (Array.isArray(type)) return defaultFor(type[0])
  if (typeof type === 'string') {
    const v: Record<string, unknown> = { null: null, boolean: false, int: 0, long: 0, float: 0, double: 0, string: '', bytes: '' }
    return { value: v[type] }
  }
  const t = type as { type: string; symbols?: string[] }
  if (t.type === 'enum') return { value: t.symbols![0] }
  if (t.type === 'array') return { value: [] }
  if (t.type === 'map') return { value: {} }
  return undefined
}
