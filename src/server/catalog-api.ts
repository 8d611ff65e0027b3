import type { Context, Hono } from 'hono'
import { catalogApi } from '../catalog/api.ts'
import type { Catalog } from '../catalog/catalog.ts'

type Fail = (c: Context, status: 404, code: string, message: string) => Response

/**
 * The catalog's routes under `/api/catalog/` (datasets, one dataset with its upstream and downstream, jobs, one
 * job, the lineage graph), answered by `catalogApi`; without a catalog each says how to give one.
 */
export function catalogRoutes(app: Hono<any>, catalog: Catalog | undefined, fail: Fail): void {
  const answer = (c: Context) => {
    if (catalog === undefined) return fail(c, 404, 'SLUICE_NOT_FOUND', 'this server has no catalog (sluice serve --catalog DIR)')
    const a = catalogApi(catalog, new URL(c.req.url))
    if (a === undefined) return fail(c, 404, 'SLUICE_NOT_FOUND', 'no such route')
    if (a.status === 404) return fail(c, 404, 'SLUICE_NOT_FOUND', String((a.body as { error?: unknown }).error ?? 'not in the catalog'))
    return c.json(a.body as object)
  }
  for (const path of ['/api/catalog/datasets', '/api/catalog/datasets/:key', '/api/catalog/jobs', '/api/catalog/jobs/:key', '/api/catalog/graph']) app.get(path, answer)
}
