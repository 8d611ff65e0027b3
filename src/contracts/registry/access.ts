import type { SchemaText } from '../compat/check.ts'
import { RegistryError } from './registry-error.ts'
import { SchemaRegistry } from './registry.ts'

/** What `sluice check --contracts` asks of a registry, embedded (a folder) or remote (a Confluent-compatible URL). */
export interface RegistryAccess {
  /** The version and id of this schema under the subject, if registered. */
  lookup(subject: string, schema: SchemaText): Promise<{ version: number; id: number } | undefined>
  /** Why the schema may not be registered under the subject at its compatibility level (empty: it may). */
  differences(subject: string, schema: SchemaText): Promise<string[]>
  register(subject: string, schema: SchemaText): Promise<{ id: number }>
  /** The schema registered under `id`, if any (a decoder's writer schema). */
  schemaById(id: number): Promise<SchemaText | undefined>
  readonly level: (subject: string) => Promise<string>
}

/**
 * Opens a registry by address: `http(s)://…` speaks the REST API, anything else is an embedded registry's folder.
 * @example const r = await registryAccess('data/registry'); await r.differences('bids-value', contract.schemaText)
 */
export async function registryAccess(where: string): Promise<RegistryAccess> {
  if (/^https?:\/\//.test(where)) return httpAccess(where.replace(/\/+$/, ''))
  const r = await SchemaRegistry.open(where)
  const body = (s: SchemaText) => ({ schema: s.schema, schemaType: s.schemaType })
  return {
    async lookup(subject, schema) {
      try {
        const v = r.lookup(subject, body(schema))
        return { version: v.version, id: v.id }
      } catch (e) {
        if (e instanceof RegistryError && (e.errorCode === 40401 || e.errorCode === 40403)) return undefined
        throw e
      }
    },
    differences: async (subject, schema) => r.differences(subject, schema).map((d) => `${d.kind} at '${d.path}': ${d.message}`),
    register: (subject, schema) => r.register(subject, body(schema)),
    async schemaById(id) {
      try {
        const s = r.schemaById(id)
        return { schema: s.schema, schemaType: s.schemaType }
      } catch (e) {
        if (e instanceof RegistryError && e.errorCode === 40403) return undefined
        throw e
      }
    },
    level: async (subject) => r.compatibility(subject),
  }
}

function httpAccess(base: string): RegistryAccess {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, json: await res.json() }
  }
  const fail = (what: string, r: { status: number; json: any }) => new Error(`${what}: HTTP ${r.status} ${r.json?.error_code ?? ''} ${r.json?.message ?? ''}`.trim())
  const body = (s: SchemaText) => ({ schema: s.schema, ...(s.schemaType !== 'AVRO' ? { schemaType: s.schemaType } : {}) })
  const enc = encodeURIComponent
  return {
    async lookup(subject, schema) {
      const r = await call('POST', `/subjects/${enc(subject)}`, body(schema))
      if (r.status === 404) return undefined
      if (r.status !== 200) throw fail(`lookup of ${subject}`, r)
      return { version: r.json.version, id: r.json.id }
    },
    async differences(subject, schema) {
      const r = await call('POST', `/compatibility/subjects/${enc(subject)}/versions?verbose=true`, body(schema))
      if (r.status === 404 && r.json?.error_code === 40401) return []
      if (r.status !== 200) throw fail(`compatibility check of ${subject}`, r)
      return r.json.is_compatible ? [] : (r.json.messages ?? ['incompatible'])
    },
    async register(subject, schema) {
      const r = await call('POST', `/subjects/${enc(subject)}/versions`, body(schema))
      if (r.status !== 200) throw fail(`registration under ${subject}`, r)
      return { id: r.json.id }
    },
    async schemaById(id) {
      const r = await call('GET', `/schemas/ids/${id}`)
      if (r.status === 404) return undefined
      if (r.status !== 200) throw fail(`schema ${id}`, r)
      return { schema: r.json.schema, schemaType: r.json.schemaType ?? 'AVRO' }
    },
    async level(subject) {
      const r = await call('GET', `/config/${enc(subject)}?defaultToGlobal=true`)
      return r.status === 200 ? r.json.compatibilityLevel : 'BACKWARD'
    },
  }
}
