import type { StepNode } from '../plan/graph.ts'
import { contractFields } from '../contracts/contract/fields.ts'
import type { SchemaText } from '../contracts/compat/check.ts'
import { declaredColumns, type DeclaredColumns } from './declare.ts'
import { probeFields, type FieldSource, type ProbeResult } from './field-probe.ts'
import { datasetsOf } from './naming.ts'
import type { DatasetRef } from './openlineage.ts'

/** The spec's transformation kinds: DIRECT (IDENTITY, TRANSFORMATION, AGGREGATION), INDIRECT (FILTER, JOIN, GROUP_BY, CONDITIONAL...). */
export interface Transformation {
  type: 'DIRECT' | 'INDIRECT'
  subtype: string
  description?: string
  masking: boolean
}

/** One input field an output field (or a whole output) depends on. */
export interface ColumnDep extends DatasetRef {
  field: string
  transformation: Transformation
}

/** What lineage knows about a stream's fields. */
export interface Columns {
  /** Known fields and the input fields each comes from. */
  fields: Map<string, ColumnDep[]>
  /** Fields not listed pass through from here (a source's fields, a spread record). */
  passthrough: ((path: string) => ColumnDep[]) | undefined
  /** Input fields that decide which records there are (filters, keys, join keys, conditions). */
  indirect: ColumnDep[]
}

/** The column lineage of a pipeline: per sink step, its input's columns; and what could not be known. */
export interface PipelineColumns {
  bySink: Map<string, Columns>
  /** Steps whose function could not be probed and declares nothing (their output fields are unknown). */
  opaque: string[]
  /** Where a declared mapping leaves out a field the probe saw the function use. */
  warnings: string[]
}

const RANK: Record<string, number> = { IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2 }

/** A DIRECT dependency taken through one more step of `subtype` (the stronger kind wins; masking stays). */
function through(d: ColumnDep, subtype: string, masking: boolean, description?: string): ColumnDep {
  const t = d.transformation
  if (t.type === 'INDIRECT') return d
  const sub = (RANK[subtype] ?? 1) > (RANK[t.subtype] ?? 1) || !(t.subtype in RANK) ? subtype : t.subtype
  return { ...d, transformation: { type: 'DIRECT', subtype: sub, masking: t.masking || masking, ...(description !== undefined ? { description } : t.description !== undefined ? { description: t.description } : {}) } }
}

function asIndirect(d: ColumnDep, subtype: string): ColumnDep {
  return { namespace: d.namespace, name: d.name, field: d.field, transformation: { type: 'INDIRECT', subtype, masking: d.transformation.masking } }
}

/** The input fields `path` of a stream comes from. */
export function resolveField(c: Columns, path: string): ColumnDep[] {
  if (path === '') return [...c.fields.values()].flat()
  const exact = c.fields.get(path)
  if (exact !== undefined) return exact
  const dot = path.indexOf('.')
  if (dot > 0) {
    const parent = c.fields.get(path.slice(0, dot))
    if (parent !== undefined) return parent.map((d) => (d.transformation.subtype === 'IDENTITY' ? { ...d, field: `${d.field}${path.slice(dot)}` } : d))
  }
  return c.passthrough?.(path) ?? []
}

const uniq = (deps: ColumnDep[]): ColumnDep[] => {
  const seen = new Map<string, ColumnDep>()
  for (const d of deps) seen.set(`${d.namespace}\u0000${d.name}\u0000${d.field}\u0000${d.transformation.type}\u0000${d.transformation.subtype}\u0000${d.transformation.masking}`, d)
  return [...seen.values()]
}

/** The names of a stream's known fields (for a probe's `{ ...record }`). */
const known = (c: Columns) => (c.fields.size > 0 ? [...c.fields.keys()] : undefined)

/**
 * The column lineage of every sink of a graph: Sluice's steps declare theirs (sources from their contract,
 * filters, unions, `protect` with its masking, aggregates by key, joins), user functions declare it with
 * `columns()` or are probed with stand-in records when the job starts (see `probeFields`).
 * @example columnLineage(pipeline.nodes).bySink.get('sink-jsonl-1')?.fields.get('email')
 */
export function columnLineage(nodes: readonly StepNode[], cwd = process.cwd()): PipelineColumns {
  const out = new Map<StepNode, Columns>()
  const opaque: string[] = []
  const warnings: string[] = []
  const bySink = new Map<string, Columns>()
  const colsOf = (n: StepNode): Columns => out.get(n) ?? { fields: new Map(), passthrough: undefined, indirect: [] }
  for (const node of nodes) {
    const ins = node.inputs.map((e) => colsOf(e.from))
    const first = ins[0] ?? { fields: new Map(), passthrough: undefined, indirect: [] }
    const impl = node.impl
    let c: Columns
    if (impl.role === 'source') c = sourceColumns(node, cwd)
    else if (impl.role === 'errors') c = { fields: new Map(), passthrough: undefined, indirect: [] }
    else if (impl.role === 'sink') {
      bySink.set(node.id, first)
      c = first
    } else if (impl.role === 'stateless') {
      const fn = impl.link.fn
      if (impl.link.op === 'filter') c = withIndirect(first, probeReads(fn, first), 'FILTER')
      else {
        const r = mapColumns(node, fn, first, impl.link.op === 'flatMap', warnings)
        if (r === undefined) opaque.push(node.id)
        c = r ?? { fields: new Map(), passthrough: undefined, indirect: first.indirect }
      }
    } else {
      c = operatorColumns(node, ins, opaque, warnings)
    }
    out.set(node, c)
  }
  return { bySink, opaque, warnings }
}

function sourceColumns(node: StepNode, cwd: string): Columns {
  const datasets = datasetsOf(node, cwd)
  const source = node.impl.role === 'source' ? node.impl.source : undefined
  const contract = source?.contract as { schemaText?: SchemaText; personal?: readonly string[] } | undefined
  const identity = (path: string): ColumnDep[] => datasets.map((d) => ({ ...d, field: path, transformation: { type: 'DIRECT', subtype: 'IDENTITY', masking: false } }))
  const fields = new Map<string, ColumnDep[]>()
  if (contract?.schemaText !== undefined) for (const f of contractFields(contract.schemaText)) fields.set(f.name, identity(f.name))
  return { fields, passthrough: identity, indirect: [] }
}

function withIndirect(c: Columns, deps: ColumnDep[], subtype: string): Columns {
  return { ...c, indirect: uniq([...c.indirect, ...deps.map((d) => asIndirect(d, subtype))]) }
}

/** Every input field a function reads (for filters and keys), resolved; nothing when it cannot be probed. */
function probeReads(fn: (v: any) => unknown, input: Columns): ColumnDep[] {
  let r: ProbeResult
  try {
    r = probeFields(fn, 1, [known(input)])
  } catch {
    return []
  }
  const paths = [...[...r.fields.values()].flat().map((s) => s.path), ...r.indirect.map((s) => s.path)]
  return uniq(paths.flatMap((p) => resolveField(input, p)))
}

/** The output columns of a `map` or `flatMap`: `protect`'s own description, a declared mapping, or a probe. */
function mapColumns(node: StepNode, fn: (v: any) => unknown, input: Columns, flat: boolean, warnings: string[]): Columns | undefined {
  const protect = (fn as { describe?: () => { fields?: Record<string, Record<string, unknown>> } }).describe
  if (typeof protect === 'function') {
    const d = protect()
    if (d !== null && typeof d === 'object' && d.fields !== undefined) return protectColumns(node, d.fields, input)
  }
  const declared = declaredColumns(fn)
  const call = flat ? (v: unknown) => firstOf(fn(v) as Iterable<unknown>) : fn
  let probed: ProbeResult | undefined
  try {
    probed = probeFields(call, 1, [known(input)])
  } catch {
    probed = undefined
  }
  if (declared !== undefined) {
    if (probed !== undefined) checkDeclared(node.id, declared, probed, warnings)
    return declaredToColumns(node, declared, input)
  }
  if (probed === undefined) return undefined
  return probedToColumns(node, probed, [input])
}

function firstOf(it: Iterable<unknown>): unknown {
  for (const v of it) return v
  return undefined
}

function protectColumns(node: StepNode, fields: Record<string, Record<string, unknown>>, input: Columns): Columns {
  const out = new Map(input.fields)
  for (const [f, t] of Object.entries(fields)) {
    const kind = String(t.kind ?? 'transform')
    const masking = kind !== 'decrypt'
    out.set(f, resolveField(input, f).map((d) => through(d, 'TRANSFORMATION', masking, `${kind} in step ${node.id}`)))
  }
  const masked = new Set(Object.keys(fields))
  const pass = input.passthrough
  return { fields: out, passthrough: pass === undefined ? undefined : (p) => (masked.has(p.split('.')[0]) ? (out.get(p.split('.')[0]) ?? []) : pass(p)), indirect: input.indirect }
}

function declaredToColumns(node: StepNode, d: DeclaredColumns, input: Columns): Columns {
  const fields = new Map<string, ColumnDep[]>()
  for (const [name, spec] of Object.entries(d.fields)) {
    const from = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? (spec as readonly string[]) : (spec as { from: readonly string[] }).from
    const o = typeof spec === 'object' && !Array.isArray(spec) ? (spec as { transformation?: string; masking?: boolean }) : {}
    const sub = o.transformation !== undefined ? o.transformation.toUpperCase() : from.length === 1 && from[0] === name ? 'IDENTITY' : 'TRANSFORMATION'
    fields.set(name, uniq(from.flatMap((p) => resolveField(input, p)).map((x) => through(x, sub, o.masking === true))))
  }
  if (d.passthrough === true) for (const [k, v] of input.fields) if (!fields.has(k)) fields.set(k, v)
  return { fields, passthrough: d.passthrough === true ? input.passthrough : undefined, indirect: input.indirect }
}

/** Output columns from a probe of a function of `inputs`. */
function probedToColumns(node: StepNode, r: ProbeResult, inputs: Columns[], subtype?: string): Columns {
  const resolve = (s: FieldSource): ColumnDep[] => resolveField(inputs[s.input], s.path).map((d) => through(d, subtype ?? (s.identity ? 'IDENTITY' : 'TRANSFORMATION'), false))
  const fields = new Map<string, ColumnDep[]>()
  for (const i of r.passthrough) for (const [k, v] of inputs[i].fields) fields.set(k, v)
  for (const [name, sources] of r.fields) fields.set(name, uniq(sources.flatMap(resolve)))
  const pass = r.passthrough.length > 0 ? inputs[r.passthrough[0]].passthrough : undefined
  const cond = r.indirect.flatMap((s) => resolveField(inputs[s.input], s.path)).map((d) => asIndirect(d, 'CONDITIONAL'))
  return { fields, passthrough: pass, indirect: uniq([...inputs.flatMap((c) => c.indirect), ...cond]) }
}

function checkDeclared(step: string, d: DeclaredColumns, r: ProbeResult, warnings: string[]): void {
  for (const [name, sources] of r.fields) {
    const spec = d.fields[name]
    if (spec === undefined) {
      if (name !== '' && d.passthrough !== true) warnings.push(`step '${step}' declares no lineage for output field '${name}'`)
      continue
    }
    const from = typeof spec === 'string' ? [spec] : Array.isArray(spec) ? (spec as readonly string[]) : (spec as { from: readonly string[] }).from
    for (const s of sources) if (!from.includes(s.path)) warnings.push(`step '${step}': output field '${name}' also uses input field '${s.path}', which its declared lineage leaves out`)
  }
}

/** Unions, expectations, lookups, aggregates, joins and process functions. */
function operatorColumns(node: StepNode, ins: Columns[], opaque: string[], warnings: string[]): Columns {
  const empty: Columns = { fields: new Map(), passthrough: undefined, indirect: uniq(ins.flatMap((c) => c.indirect)) }
  switch (node.kind) {
    case 'union': {
      const fields = new Map<string, ColumnDep[]>()
      for (const c of ins) for (const [k, v] of c.fields) fields.set(k, uniq([...(fields.get(k) ?? []), ...v]))
      const passes = ins.map((c) => c.passthrough).filter((p) => p !== undefined)
      return { fields, passthrough: passes.length === 0 ? undefined : (p) => uniq(passes.flatMap((f) => f(p))), indirect: empty.indirect }
    }
    case 'expect':
    // A combiner's partials carry its input's fields into the aggregate after it.
    case 'combine':
      return ins[0] ?? empty
  }
  const cols = node.columns
  const keyReads = node.inputs.flatMap((e, i) => (e.key !== undefined ? probeReads(e.key, ins[i]) : []))
  if (cols?.kind === 'aggregate') {
    const input = ins[0]
    let value: ColumnDep[] = []
    try {
      const r = probeFields((v: unknown) => cols.add(cols.create(), v), 1, [known(input)])
      const paths = [...[...r.fields.values()].flat().map((s) => s.path), ...r.indirect.map((s) => s.path), ...(r.passthrough.length > 0 ? [''] : [])]
      value = uniq(paths.flatMap((p) => resolveField(input, p)).map((d) => through(d, 'AGGREGATION', false)))
    } catch {
      warnings.push(`step '${node.id}': the aggregate could not be probed; its value's lineage is unknown`)
    }
    let key: ColumnDep[] = []
    try {
      const k = probeFields(node.inputs[0].key!, 1, [known(input)])
      key = uniq((k.fields.get('') ?? []).flatMap((s) => resolveField(input, s.path).map((d) => through(d, s.identity ? 'IDENTITY' : 'TRANSFORMATION', false))))
    } catch {
      key = []
    }
    const fields = new Map<string, ColumnDep[]>([['key', key], ['value', value]])
    if (node.kind === 'window-aggregate') {
      fields.set('start', [])
      fields.set('end', [])
    }
    return { fields, passthrough: undefined, indirect: uniq([...empty.indirect, ...keyReads.map((d) => asIndirect(d, 'GROUP_BY'))]) }
  }
  if (cols?.kind === 'join') {
    try {
      const r = probeFields(cols.fn, 2, [known(ins[0]), known(ins[1])])
      const c = probedToColumns(node, r, ins)
      return { ...c, indirect: uniq([...c.indirect, ...keyReads.map((d) => asIndirect(d, 'JOIN'))]) }
    } catch {
      opaque.push(node.id)
      return { ...empty, indirect: uniq([...empty.indirect, ...keyReads.map((d) => asIndirect(d, 'JOIN'))]) }
    }
  }
  // process, co-process, lookup: opaque unless declared
  const declared = cols?.kind === 'opaque' ? declaredColumns(cols.fn) : undefined
  if (declared !== undefined && ins[0] !== undefined) return declaredToColumns(node, declared, ins[0])
  opaque.push(node.id)
  return { ...empty, indirect: uniq([...empty.indirect, ...keyReads.map((d) => asIndirect(d, 'GROUP_BY'))]) }
}
