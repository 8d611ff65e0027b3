import type { RunEvent, Dataset } from '../lineage/openlineage.ts'
import { contractFields } from '../contracts/contract/fields.ts'
import type { SchemaText } from '../contracts/compat/check.ts'
import { datasetKey, jobKey, type CatalogDataset, type CatalogField, type CatalogJob, type CatalogQuery } from './model.ts'
import { CatalogStore } from './store.ts'

/** A contract as the catalog takes it (a `Contract`, or one loaded from a file). */
export interface CatalogContract {
  name: string
  version: number
  owner?: string
  description?: string
  personal: readonly string[]
  schemaText: SchemaText
}

const STATES: Record<string, string> = { COMPLETE: 'completed', FAIL: 'failed', ABORT: 'aborted', START: 'running', RUNNING: 'running' }

/**
 * The datasets and jobs Sluice knows, from lineage events and contracts, kept in an embedded store: schema
 * and versions, owner, personal fields, freshness, last run and its outcome, upstream and downstream.
 * @example
 * const catalog = Catalog.open('.sluice/catalog')
 * catalog.ingestEvent(event)
 * catalog.search({ tag: 'personal' }).map((d) => d.key)
 */
export class Catalog {
  readonly #store: CatalogStore

  private constructor(store: CatalogStore) {
    this.#store = store
  }

  /**
   * Opens (or creates) the catalog in `dir` (':memory:' for one that is not kept).
   * @example const catalog = Catalog.open('state/catalog')
   */
  static open(dir: string): Catalog {
    return new Catalog(new CatalogStore(dir))
  }

  /**
   * Whether `dir` holds a catalog already: readers that must not create one (a sensor) ask first.
   * @example const fresh = Catalog.exists(dir) ? Catalog.open(dir).dataset('views')?.lastWritten : undefined
   */
  static exists(dir: string): boolean {
    return CatalogStore.exists(dir)
  }

  /**
   * Every dataset, by key.
   * @example catalog.datasets().filter((d) => d.personal.length > 0)
   */
  datasets(): CatalogDataset[] {
    return this.#store.all<CatalogDataset>('dataset')
  }

  /**
   * Every job, by key.
   * @example catalog.jobs().map((j) => j.key)
   */
  jobs(): CatalogJob[] {
    return this.#store.all<CatalogJob>('job')
  }

  /**
   * A dataset by key, or by name.
   * @example catalog.dataset('views')?.lastWritten
   */
  dataset(key: string): CatalogDataset | undefined {
    return this.#store.get<CatalogDataset>('dataset', key) ?? this.datasets().find((d) => d.name === key)
  }

  /**
   * A job by key (`<namespace>/<name>`), or by name.
   * @example catalog.job('sluice/click-sessions')
   */
  job(key: string): CatalogJob | undefined {
    return this.#store.get<CatalogJob>('job', key) ?? this.jobs().find((j) => j.name === key)
  }

  /**
   * Adds what a lineage event says: the job, its last run, the datasets it read and wrote.
   * @example catalog.ingestEvent(JSON.parse(line)) // one line of a lineage file
   */
  ingestEvent(e: RunEvent): void {
    const jk = jobKey(e.job.namespace, e.job.name)
    const job: CatalogJob = this.#store.get<CatalogJob>('job', jk) ?? { key: jk, namespace: e.job.namespace, name: e.job.name, owners: [], inputs: [], outputs: [], runs: 0 }
    const f = e.job.facets ?? {}
    if (typeof f.jobType?.processingType === 'string') job.type = f.jobType.processingType
    if (Array.isArray(f.ownership?.owners)) job.owners = (f.ownership.owners as { name: string }[]).map((o) => o.name)
    if (typeof f.sourceCodeLocation?.url === 'string') job.source = f.sourceCodeLocation.url
    const inputs = e.inputs.map((d) => datasetKey(d.namespace, d.name))
    const outputs = e.outputs.map((d) => datasetKey(d.namespace, d.name))
    job.inputs = [...new Set([...job.inputs, ...inputs])]
    job.outputs = [...new Set([...job.outputs, ...outputs])]
    if (e.eventType === 'START') job.runs++
    const parent = e.run.facets?.parent as { job?: { namespace: string; name: string } } | undefined
    const error = e.run.facets?.errorMessage?.message
    job.lastRun = { runId: e.run.runId, state: STATES[e.eventType] ?? e.eventType, at: e.eventTime, ...(typeof error === 'string' ? { error } : {}), ...(parent?.job !== undefined ? { parent: jobKey(parent.job.namespace, parent.job.name) } : {}) }
    const final = e.eventType !== 'START'
    const docs = [
      ...e.inputs.map((d) => this.#fromLineage(d, jk, 'reader', final ? e.eventTime : undefined)),
      ...e.outputs.map((d) => this.#fromLineage(d, jk, 'writer', final && e.eventType !== 'FAIL' && e.eventType !== 'ABORT' ? e.eventTime : undefined)),
    ]
    this.#store.put([{ kind: 'job', key: jk, doc: job }, ...docs.map((d) => ({ kind: 'dataset', key: d.key, doc: d }))])
  }

  /**
   * Adds a contract: the dataset named like it (or `namespace`/`name` given) gets its schema, owner and personal fields.
   * @example catalog.ingestContract(loadContract('contracts/bids.yaml'))
   */
  ingestContract(c: CatalogContract, at = new Date().toISOString(), ref?: { namespace: string; name: string }): CatalogDataset {
    const key = ref !== undefined ? datasetKey(ref.namespace, ref.name) : (this.datasets().find((d) => d.versions.some((v) => v.contract === c.name))?.key ?? datasetKey('contract', c.name))
    const d = this.#load(key, ref ?? { namespace: 'contract', name: c.name })
    if (c.owner !== undefined) d.owner = c.owner
    if (c.description !== undefined) d.description = c.description
    const fields = contractFields(c.schemaText, c.personal).map((f) => ({ name: f.name, type: f.type, personal: f.personal }))
    this.#setFields(d, fields, at, `${c.name} v${c.version}`)
    this.#store.put([{ kind: 'dataset', key, doc: d }])
    return d
  }

  /**
   * Datasets whose key or name contains `text`, with `tag` and a field named `field` (case-insensitive).
   * @example catalog.search({ text: 'orders', field: 'email' })
   */
  search(q: CatalogQuery): CatalogDataset[] {
    const text = q.text?.toLowerCase()
    const tag = q.tag?.toLowerCase()
    const field = q.field?.toLowerCase()
    return this.datasets().filter(
      (d) =>
        (text === undefined || d.key.toLowerCase().includes(text) || (d.description ?? '').toLowerCase().includes(text)) &&
        (tag === undefined || d.tags.some((t) => t.toLowerCase() === tag)) &&
        (field === undefined || d.fields.some((f) => f.name.toLowerCase() === field)),
    )
  }

  /**
   * Jobs whose key or name contains `text` (case-insensitive), or that read or write a dataset whose key does.
   * @example catalog.searchJobs('orders').map((j) => j.key) // ['sluice/orders-daily']
   */
  searchJobs(text: string): CatalogJob[] {
    const t = text.toLowerCase()
    return this.jobs().filter((j) => j.key.toLowerCase().includes(t) || [...j.inputs, ...j.outputs].some((d) => d.toLowerCase().includes(t)))
  }

  /**
   * The datasets a dataset comes from (through the jobs that write it) and those made from it, transitively.
   * @example const { upstream, downstream } = catalog.lineage('views')
   */
  lineage(key: string): { upstream: string[]; downstream: string[] } {
    const jobs = new Map(this.jobs().map((j) => [j.key, j]))
    const all = new Map(this.datasets().map((d) => [d.key, d]))
    const walk = (start: string, next: (d: CatalogDataset) => string[]): string[] => {
      const seen = new Set<string>()
      const todo = [start]
      while (todo.length > 0) {
        const d = all.get(todo.pop()!)
        if (d === undefined) continue
        for (const k of next(d)) if (!seen.has(k) && k !== start) (seen.add(k), todo.push(k))
      }
      return [...seen].sort()
    }
    return {
      upstream: walk(key, (d) => d.writers.flatMap((w) => jobs.get(w)?.inputs ?? [])),
      downstream: walk(key, (d) => d.readers.flatMap((r) => jobs.get(r)?.outputs ?? [])),
    }
  }

  /**
   * The lineage graph for the dashboard: datasets and jobs as nodes, reads and writes as edges.
   * @example const { nodes, edges } = catalog.graph()
   */
  graph(): { nodes: { id: string; kind: 'dataset' | 'job'; label: string; personal?: boolean; masked?: boolean; state?: string }[]; edges: { from: string; to: string }[] } {
    const nodes = [
      ...this.datasets().map((d) => ({ id: `dataset:${d.key}`, kind: 'dataset' as const, label: d.name, personal: d.personal.length > 0, masked: (d.masked ?? []).length > 0 })),
      ...this.jobs().map((j) => ({ id: `job:${j.key}`, kind: 'job' as const, label: j.name, ...(j.lastRun !== undefined ? { state: j.lastRun.state } : {}) })),
    ]
    const edges = this.jobs().flatMap((j) => [...j.inputs.map((i) => ({ from: `dataset:${i}`, to: `job:${j.key}` })), ...j.outputs.map((o) => ({ from: `job:${j.key}`, to: `dataset:${o}` }))])
    return { nodes, edges }
  }

  /**
   * Closes the store.
   * @example catalog.close()
   */
  close(): void {
    this.#store.close()
  }

  #load(key: string, ref: { namespace: string; name: string }): CatalogDataset {
    return this.#store.get<CatalogDataset>('dataset', key) ?? { key, namespace: ref.namespace, name: ref.name, fields: [], versions: [], personal: [], tags: [], writers: [], readers: [], quality: [] }
  }

  #fromLineage(ds: Dataset, job: string, role: 'reader' | 'writer', at: string | undefined): CatalogDataset {
    const d = this.#load(datasetKey(ds.namespace, ds.name), ds)
    if (role === 'reader') d.readers = [...new Set([...d.readers, job])]
    else d.writers = [...new Set([...d.writers, job])]
    if (at !== undefined) {
      if (role === 'reader') d.lastRead = at
      else d.lastWritten = at
    }
    const f = ds.facets ?? {}
    const owners = f.ownership?.owners as { name: string }[] | undefined
    if (owners?.[0] !== undefined) d.owner = owners[0].name
    if (typeof f.documentation?.description === 'string') d.description = f.documentation.description
    const schema = f.schema?.fields as { name: string; type?: string; tags?: { key: string; value: string }[] }[] | undefined
    // Personal fields are tags of the tags facet (`field` names the field, nested ones dotted); older lineage
    // files put the same tag on the schema facet's field.
    const tagged = ((f.tags?.tags ?? []) as { key: string; value: string; field?: string }[]).filter((t) => t.key === 'classification' && t.value === 'personal' && typeof t.field === 'string').map((t) => t.field!)
    const personal = (x: { name: string; tags?: { key: string; value: string }[] }) => tagged.some((p) => p === x.name || p.startsWith(`${x.name}.`)) || (x.tags ?? []).some((t) => t.key === 'classification' && t.value === 'personal')
    if (Array.isArray(schema)) {
      const fields = schema.map((x) => ({ name: x.name, ...(x.type !== undefined ? { type: x.type } : {}), personal: personal(x) || d.personal.includes(x.name) }))
      this.#setFields(d, fields, at ?? new Date().toISOString())
    }
    const columns = f.columnLineage?.fields as Record<string, { inputFields?: { transformations?: { masking?: boolean }[] }[] }> | undefined
    if (columns !== undefined && typeof columns === 'object') {
      const masked = Object.entries(columns).filter(([, c]) => (c.inputFields ?? []).some((i) => (i.transformations ?? []).some((t) => t.masking === true))).map(([name]) => name)
      d.masked = masked
      d.fields = d.fields.map((x) => ({ ...x, masked: masked.includes(x.name) }))
    }
    const assertions = ds.inputFacets?.dataQualityAssertions?.assertions
    if (Array.isArray(assertions)) d.quality = assertions as CatalogDataset['quality']
    return d
  }

  #setFields(d: CatalogDataset, fields: CatalogField[], at: string, contract?: string): void {
    const names = fields.map((f) => f.name)
    const last = d.versions.at(-1)
    const same = last !== undefined && last.fields.join('\u0000') === names.join('\u0000')
    if (!same || (contract !== undefined && last?.contract !== contract)) d.versions.push({ version: (last?.version ?? 0) + 1, fields: names, seenAt: at, ...(contract !== undefined ? { contract } : {}) })
    const before = new Map(d.fields.map((f) => [f.name, f]))
    d.fields = fields.map((f) => ({ ...f, personal: f.personal || before.get(f.name)?.personal === true, ...(d.masked?.includes(f.name) === true ? { masked: true } : {}) }))
    d.personal = d.fields.filter((f) => f.personal).map((f) => f.name)
    d.tags = [...new Set([...d.tags.filter((t) => t !== 'personal'), ...(d.personal.length > 0 ? ['personal'] : [])])]
  }
}
