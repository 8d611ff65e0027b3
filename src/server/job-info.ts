import type { SloSpec } from '../observe/slo/spec.ts'
import type { SchemaText } from '../contracts/compat/check.ts'
import { graphOf, type GraphStep } from './graph.ts'

/** A source's contract as the control plane shows it. */
export interface SourceContract {
  step: string
  name: string
  subject: string
  version: number
  format: string
  owner?: string
  personal: readonly string[]
  schemaText: SchemaText
}

/** What the control plane knows of a job from its pipeline: its graph, objectives, dead letters and personal fields. */
export interface JobInfo {
  graph: readonly GraphStep[]
  slo?: SloSpec
  /** The pipeline sends failed records to the dead-letter log. */
  deadLetters: boolean
  /** Paths (`a.b`) of fields tagged personal by the contracts of its sources: masked in every record the API shows. */
  personal: readonly string[]
  /** The contracts of its sources (the schemas the job uses). */
  contracts?: readonly SourceContract[]
}

interface ContractLike {
  name: string
  subject?: string
  version?: number
  format?: string
  owner?: string
  personal?: readonly string[]
  schemaText?: SchemaText
  describe(): Record<string, unknown>
}

interface PipelineLike {
  nodes: readonly { id: string; kind: string; inputs: readonly { from: { id: string }; tag?: string }[]; impl: { role: string; source?: { contract?: ContractLike } } }[]
  options: { slo?: SloSpec; onError?: string }
}

/**
 * The control plane's facts about a pipeline.
 * @example serveControlPlane({ jobs, infos: new Map([[p.name, jobInfoOf(p)]]), stateDir })
 */
export function jobInfoOf(p: PipelineLike): JobInfo {
  const personal = new Set<string>()
  const contracts: SourceContract[] = []
  for (const n of p.nodes) {
    const c = n.impl.role === 'source' ? n.impl.source?.contract : undefined
    if (c === undefined) continue
    const listed = c.describe().personal
    if (Array.isArray(listed)) for (const f of listed) if (typeof f === 'string') personal.add(f)
    if (c.schemaText !== undefined) contracts.push({ step: n.id, name: c.name, subject: c.subject ?? `${c.name}-value`, version: c.version ?? 1, format: c.format ?? c.schemaText.schemaType, ...(c.owner !== undefined ? { owner: c.owner } : {}), personal: [...(c.personal ?? [])], schemaText: c.schemaText })
  }
  return { graph: graphOf(p.nodes), ...(p.options.slo !== undefined ? { slo: p.options.slo } : {}), deadLetters: p.options.onError === 'dead-letter', personal: [...personal], contracts }
}

/** Shown instead of a personal field's value. */
export const MASK = '***'

/**
 * A copy of `value` with the fields at `paths` (`a.b`, through arrays) replaced by `***`; other values as they are.
 * @example maskPersonal({ user: { email: 'a@b' }, n: 1 }, ['user.email']) // { user: { email: '***' }, n: 1 }
 */
export function maskPersonal(value: unknown, paths: readonly string[]): unknown {
  if (paths.length === 0) return value
  let out = value
  for (const p of paths) out = maskPath(out, p.split('.'))
  return out
}

function maskPath(v: unknown, path: readonly string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => maskPath(x, path))
  if (typeof v !== 'object' || v === null || path.length === 0) return v
  const [head, ...rest] = path as [string, ...string[]]
  if (!Object.hasOwn(v, head)) return v
  const copy = { ...(v as Record<string, unknown>) }
  copy[head] = rest.length === 0 ? MASK : maskPath(copy[head], rest)
  return copy
}
