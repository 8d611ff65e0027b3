/** A field of a catalogued dataset. */
export interface CatalogField {
  name: string
  type?: string
  personal: boolean
  /** Column lineage says a step masked it (mask, redact, hash, tokenize, encrypt) on the way to this dataset. */
  masked?: boolean
}

/**
 * A dataset the catalog knows, from lineage events and contracts.
 * @example catalog.dataset('file:/data/orders.jsonl')?.personal // ['email']
 */
export interface CatalogDataset {
  /** `<namespace>:<name>` for `file`, else `<namespace>/<name>`. */
  key: string
  namespace: string
  name: string
  owner?: string
  description?: string
  fields: CatalogField[]
  /** Schema versions in the order they were seen: a version per distinct field list (or contract version). */
  versions: { version: number; fields: string[]; seenAt: string; contract?: string }[]
  personal: string[]
  /** Fields that column lineage marks masked on the way in (absent before any such lineage). */
  masked?: string[]
  tags: string[]
  /** When a run last wrote it (freshness) and read it, ISO. */
  lastWritten?: string
  lastRead?: string
  /** Jobs (`<namespace>/<name>`) that write and read it. */
  writers: string[]
  readers: string[]
  /** The latest data-quality assertions on it. */
  quality: { assertion: string; success: boolean; column?: string }[]
}

/**
 * A job the catalog knows from lineage events.
 * @example
 * const job = catalog.job('sluice/orders-daily')
 * console.log(job?.runs, job?.lastRun?.state) // 12 'COMPLETE'
 */
export interface CatalogJob {
  key: string
  namespace: string
  name: string
  type?: string
  owners: string[]
  source?: string
  inputs: string[]
  outputs: string[]
  runs: number
  lastRun?: { runId: string; state: string; at: string; error?: string; parent?: string }
}

/**
 * What `search` matches: a name's part, a tag, a field name (each optional; all must match).
 * @example catalog.search({ text: 'orders', tag: 'personal', field: 'email' })
 */
export interface CatalogQuery {
  text?: string
  tag?: string
  field?: string
}

export function datasetKey(namespace: string, name: string): string {
  return namespace.includes('://') ? `${namespace}/${name.replace(/^\//, '')}` : `${namespace}:${name}`
}

export function jobKey(namespace: string, name: string): string {
  return `${namespace}/${name}`
}
