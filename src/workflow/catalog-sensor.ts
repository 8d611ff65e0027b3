import { resolve } from 'node:path'
import { Catalog } from '../catalog/catalog.ts'
import { SluiceError, errorMessage } from '../core/errors.ts'
import { fresherThan, type SensorCheck } from './sensors.ts'
import type { TaskContext } from './task.ts'

/**
 * Where `catalogFresherThan` looks, and the time the dataset must reach.
 * @example catalogFresherThan('file:/data/views/daily.jsonl', { catalog: '.sluice/catalog', notBefore: ({ params }) => Date.parse(params.end!) })
 */
export interface CatalogFreshnessOptions {
  /** The catalog's folder (as `sluice catalog --dir` and `sluice serve --catalog` take it; default `.sluice/catalog`), or an open catalog. */
  catalog?: string | Catalog
  /** Epoch ms the dataset's last write must reach; default the partition's end (the scheduler's now without one). */
  notBefore?: (ctx: TaskContext) => number
}

/**
 * Holds once the catalog says a run wrote `dataset` (its key, or its name) at or after a time, by default the
 * end of the run's partition. The catalog learns of writes from lineage (`sluice run --lineage`, then `sluice
 * catalog ingest`, or `sluice serve --catalog`), so a pipeline of another team or scheduler can be waited for
 * without knowing how it stores its data. A catalog folder is opened for each look and closed after, and one that
 * does not exist yet reads as "not written".
 * @example catalogFresherThan('file:/data/views/daily.jsonl', { catalog: '.sluice/catalog' })
 */
export function catalogFresherThan(dataset: string | ((ctx: TaskContext) => string), opts: CatalogFreshnessOptions = {}): SensorCheck {
  const where = opts.catalog ?? '.sluice/catalog'
  return fresherThan((ctx) => {
    const name = typeof dataset === 'string' ? dataset : dataset(ctx)
    if (typeof where !== 'string') return lastWritten(where, name)
    const dir = resolve(where)
    if (!Catalog.exists(dir)) return undefined
    let catalog: Catalog | undefined
    try {
      catalog = Catalog.open(dir)
      return lastWritten(catalog, name)
    } catch (e) {
      throw new SluiceError('SLUICE_WORKFLOW_SENSOR_FAILED', `sensor '${ctx.task}' could not read the catalog: ${errorMessage(e)}`, {
        domain: 'external',
        retryable: true,
        step: ctx.task,
        position: ctx.partition,
        cause: e,
        hint: 'check that the catalog folder is readable',
      })
    } finally {
      catalog?.close()
    }
  }, opts.notBefore)
}

function lastWritten(catalog: Catalog, dataset: string): number | undefined {
  const at = catalog.dataset(dataset)?.lastWritten
  return at === undefined ? undefined : Date.parse(at)
}
