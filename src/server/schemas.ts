import type { Context, Hono } from 'hono'
import { contractFields } from '../contracts/contract/fields.ts'
import { registryAccess } from '../contracts/registry/access.ts'
import { buildQualityReport } from '../contracts/quality/report.ts'
import { qualityResultsSeen } from '../contracts/quality/results-seen.ts'
import type { QualityResult } from '../contracts/quality/window-checks.ts'
import { errorMessage } from '../core/errors.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import type { JobInfo, SourceContract } from './job-info.ts'

export interface SchemaDeps {
  infos: ReadonlyMap<string, JobInfo> | undefined
  /** A schema registry (folder or URL) the contracts are looked up in. */
  registry: string | undefined
  job(c: Context): JobHandle | Response
}

/** Where a contract's schema stands in the registry. */
export type RegistryState =
  | { status: 'registered'; version: number; id: number }
  | { status: 'not-registered' | 'incompatible'; level: string; differences: string[] }
  | { status: 'unreachable'; error: string }

async function registryState(where: string, c: SourceContract): Promise<RegistryState> {
  try {
    const r = await registryAccess(where)
    const found = await r.lookup(c.subject, c.schemaText)
    if (found !== undefined) return { status: 'registered', ...found }
    const differences = await r.differences(c.subject, c.schemaText)
    return { status: differences.length > 0 ? 'incompatible' : 'not-registered', level: await r.level(c.subject), differences }
  } catch (e) {
    return { status: 'unreachable', error: errorMessage(e) }
  }
}

/**
 * `GET /api/jobs/:job/schemas`: the contracts of the job's sources (subject, version, fields with the personal
 * ones marked, the schema, and where it stands in the registry given with `--registry`), and
 * `GET /api/jobs/:job/quality`: the latest result of each `expect` rule with its totals since the run started.
 */
export function schemaRoutes(app: Hono<any>, d: SchemaDeps): void {
  app.get('/api/jobs/:job/schemas', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const contracts = d.infos?.get(c.req.param('job'))?.contracts ?? []
    return c.json(
      await Promise.all(
        contracts.map(async (k) => ({
          step: k.step,
          contract: k.name,
          subject: k.subject,
          version: k.version,
          format: k.format,
          ...(k.owner !== undefined ? { owner: k.owner } : {}),
          personal: k.personal,
          fields: contractFields(k.schemaText, k.personal),
          schemaType: k.schemaText.schemaType,
          schema: k.schemaText.schema,
          ...(d.registry !== undefined ? { registry: await registryState(d.registry, k) } : {}),
        })),
      ),
    )
  })
  app.get('/api/jobs/:job/quality', (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    return c.json(latestQuality(qualityResultsSeen(h.pipeline)))
  })
}

/** Per step and expectation: the latest result and the totals over the results kept. */
export function latestQuality(results: readonly QualityResult[]) {
  const latest = new Map<string, QualityResult>()
  for (const r of results) latest.set(`${r.step}\u0000${r.expectation}`, r)
  return buildQualityReport(results).expectations.map((e) => {
    const { failures: _, ...totals } = e
    return { ...totals, latest: latest.get(`${e.step}\u0000${e.expectation}`)! }
  })
}
