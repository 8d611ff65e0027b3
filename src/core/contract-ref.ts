/**
 * What the runtime and the connectors see of a data contract (`contracts/` builds it): its name, subject and
 * version, and its schema as a registry holds it, so that a sink can take its columns from it.
 * @example const columns = ctx.contract?.schemaText // { schemaType: 'JSON', schema: '{"type":"object",...}' }
 */
export interface ContractRef {
  readonly name: string
  readonly subject: string
  readonly version: number
  /** The schema as text: Avro or JSON Schema (zod schemas as their JSON Schema). */
  readonly schemaText?: { readonly schemaType: 'AVRO' | 'JSON'; readonly schema: string }
  describe(): Record<string, unknown>
}
