import type { Catalog } from './catalog.ts'

/** An answer of the catalog API: a status and a JSON body. */
export interface CatalogAnswer {
  status: number
  body: unknown
}

/**
 * The catalog's JSON API, for the control plane to mount under `/api/catalog` (viewer role):
 * `GET /api/catalog/datasets?q=&tag=&field=`, `/api/catalog/datasets/<key>` (with upstream and downstream),
 * `/api/catalog/jobs?q=`, `/api/catalog/jobs/<key>`, `/api/catalog/graph` (nodes and edges for a lineage view).
 * Keys are URL-encoded. Undefined for a path it does not serve.
 * @example
 * const a = catalogApi(catalog, new URL('http://localhost/api/catalog/datasets?tag=personal'))
 * if (a !== undefined) console.log(a.status, a.body) // undefined: not a catalog route
 */
export function catalogApi(catalog: Catalog, url: URL): CatalogAnswer | undefined {
  const path = url.pathname.replace(/\/+$/, '')
  const q = url.searchParams
  if (path === '/api/catalog/datasets') {
    return { status: 200, body: catalog.search({ ...opt('text', q.get('q')), ...opt('tag', q.get('tag')), ...opt('field', q.get('field')) }) }
  }
  if (path === '/api/catalog/jobs') return { status: 200, body: q.get('q') ? catalog.searchJobs(q.get('q')!) : catalog.jobs() }
  if (path === '/api/catalog/graph') return { status: 200, body: catalog.graph() }
  const m = /^\/api\/catalog\/(datasets|jobs)\/(.+)$/.exec(path)
  if (m === null) return undefined
  const key = decodeURIComponent(m[2])
  if (m[1] === 'jobs') {
    const j = catalog.job(key)
    return j === undefined ? { status: 404, body: { error: `no job '${key}' in the catalog` } } : { status: 200, body: j }
  }
  const d = catalog.dataset(key)
  return d === undefined ? { status: 404, body: { error: `no dataset '${key}' in the catalog` } } : { status: 200, body: { ...d, ...catalog.lineage(d.key) } }
}

const opt = <K extends string>(k: K, v: string | null): Partial<Record<K, string>> => (v === null || v === '' ? {} : ({ [k]: v } as Record<K, string>))
