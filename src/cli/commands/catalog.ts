import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { userError } from '../../core/errors.ts'
import { Catalog } from '../../catalog/catalog.ts'
import type { CatalogDataset, CatalogJob } from '../../catalog/model.ts'
import { loadContract } from '../../contracts/contract/contract-file.ts'
import type { RunEvent } from '../../lineage/openlineage.ts'
import { lineageFiles, readLineageText } from '../../lineage/segments.ts'

export const catalogCommand: Command = {
  name: 'catalog',
  summary: 'the datasets and jobs Sluice knows, from lineage and contracts',
  usage: 'sluice catalog [list|show <name>|ingest <file>...|graph] [flags]',
  description: [
    'Lists the datasets and jobs of the catalog: schema and its versions, owner, fields tagged personal,',
    'freshness (when a run last wrote it), the last run and its outcome, upstream and downstream.',
    '`ingest` adds lineage events (an NDJSON file written by sluice run --lineage) and contract files',
    '(YAML); `show` prints one dataset or job; `graph` prints the lineage graph as JSON. The catalog is',
    'kept in an embedded store in --dir.',
  ].join('\n'),
  positionals: { min: 0, max: 100, names: 'the action and its arguments' },
  flags: [
    { name: 'dir', type: 'string', placeholder: 'DIR', description: 'the catalog folder (default .sluice/catalog)' },
    { name: 'search', type: 'string', placeholder: 'TEXT', description: 'datasets whose name contains TEXT, and jobs whose name contains it or that read or write such a dataset' },
    { name: 'tag', type: 'string', placeholder: 'TAG', description: "datasets with this tag, e.g. 'personal'" },
    { name: 'field', type: 'string', placeholder: 'NAME', description: 'datasets with a field of this name' },
    { name: 'json', type: 'boolean', description: 'print JSON' },
  ],
  examples: ['sluice catalog ingest lineage/events.ndjson contracts/bids.yaml', 'sluice catalog --tag personal', 'sluice catalog show bids --json'],

  async run({ positionals, values }, ctx) {
    const [action = 'list', ...args] = positionals
    const catalog = Catalog.open(resolve(ctx.cwd, typeof values.dir === 'string' ? values.dir : '.sluice/catalog'))
    const json = values.json === true
    try {
      if (action === 'ingest') {
        if (args.length === 0) throw new UsageError('ingest needs lineage (.ndjson) or contract (.yaml) files', 'catalog')
        let events = 0
        let contracts = 0
        for (const f of args) {
          const path = resolve(ctx.cwd, f)
          if (/\.ya?ml$/i.test(f)) {
            catalog.ingestContract(loadContract(path))
            contracts++
            continue
          }
          const text = readText(path)
          for (const [i, line] of text.split('\n').entries()) {
            if (line.trim() === '') continue
            let e: RunEvent
            try {
              e = JSON.parse(line) as RunEvent
            } catch {
              throw userError('SLUICE_BAD_JSON', `line ${i + 1} of '${f}' is not a lineage event (JSON)`)
            }
            catalog.ingestEvent(e)
            events++
          }
        }
        ctx.stderr.write(`catalog: ${events} lineage events and ${contracts} contracts added\n`)
        return exitCode.ok
      }
      if (action === 'graph') {
        ctx.stdout.write(JSON.stringify(catalog.graph()) + '\n')
        return exitCode.ok
      }
      if (action === 'show') {
        const name = args[0]
        if (name === undefined) throw new UsageError('show needs a dataset or job name', 'catalog')
        const d = catalog.dataset(name)
        const j = d === undefined ? catalog.job(name) : undefined
        if (d === undefined && j === undefined) throw userError('SLUICE_BAD_ARGUMENT', `no dataset or job '${name}' in the catalog`, { hint: 'sluice catalog lists them' })
        const doc = d !== undefined ? { ...d, ...catalog.lineage(d.key) } : j
        ctx.stdout.write(json ? JSON.stringify(doc) + '\n' : d !== undefined ? showDataset(d, catalog.lineage(d.key)) : showJob(j!))
        return exitCode.ok
      }
      if (action !== 'list') throw new UsageError(`unknown action '${action}'; use list, show, ingest or graph`, 'catalog')
      const found = catalog.search({
        ...(typeof values.search === 'string' ? { text: values.search } : {}),
        ...(typeof values.tag === 'string' ? { tag: values.tag } : {}),
        ...(typeof values.field === 'string' ? { field: values.field } : {}),
      })
      // Jobs have no tags or fields: a tag or field filter lists datasets only; a name matches jobs too.
      const jobs = values.tag !== undefined || values.field !== undefined ? [] : typeof values.search === 'string' ? catalog.searchJobs(values.search) : catalog.jobs()
      if (json) ctx.stdout.write(JSON.stringify({ datasets: found, jobs }) + '\n')
      else ctx.stdout.write(listing(found, jobs))
      return exitCode.ok
    } finally {
      catalog.close()
    }
  },
}

/** A lineage log with all its segments in order (a single file as well). */
function readText(path: string): string {
  try {
    if (lineageFiles(path).length === 0) return readFileSync(path, 'utf8')
    return readLineageText(path)
  } catch {
    throw userError('SLUICE_BAD_ARGUMENT', `cannot read '${path}'`)
  }
}

function listing(ds: CatalogDataset[], jobs: CatalogJob[]): string {
  const lines = ['DATASET  OWNER  FIELDS  PERSONAL  LAST WRITTEN']
  for (const d of ds) lines.push(`${d.key}  ${d.owner ?? '-'}  ${d.fields.length}  ${d.personal.join(',') || '-'}  ${d.lastWritten ?? '-'}`)
  if (jobs.length > 0) {
    lines.push('', 'JOB  TYPE  OWNERS  LAST RUN')
    for (const j of jobs) lines.push(`${j.key}  ${j.type ?? '-'}  ${j.owners.join(',') || '-'}  ${j.lastRun !== undefined ? `${j.lastRun.state} at ${j.lastRun.at}` : '-'}`)
  }
  return lines.join('\n') + '\n'
}

function showDataset(d: CatalogDataset, l: { upstream: string[]; downstream: string[] }): string {
  return [
    `dataset    ${d.key}`,
    `owner      ${d.owner ?? '-'}`,
    ...(d.description !== undefined ? [`about      ${d.description}`] : []),
    `fields     ${d.fields.map((f) => `${f.name}${f.type !== undefined ? `:${f.type}` : ''}${f.personal ? ' (personal)' : ''}`).join(', ') || '-'}`,
    `versions   ${d.versions.map((v) => `v${v.version}${v.contract !== undefined ? ` (${v.contract})` : ''}`).join(', ') || '-'}`,
    `written    ${d.lastWritten ?? '-'} by ${d.writers.join(', ') || '-'}`,
    `read       ${d.lastRead ?? '-'} by ${d.readers.join(', ') || '-'}`,
    `upstream   ${l.upstream.join(', ') || '-'}`,
    `downstream ${l.downstream.join(', ') || '-'}`,
    ...(d.quality.length > 0 ? [`quality    ${d.quality.map((q) => `${q.assertion} ${q.success ? 'passed' : 'FAILED'}`).join(', ')}`] : []),
    '',
  ].join('\n')
}

function showJob(j: CatalogJob): string {
  return [
    `job       ${j.key}`,
    `type      ${j.type ?? '-'}`,
    `owners    ${j.owners.join(', ') || '-'}`,
    `reads     ${j.inputs.join(', ') || '-'}`,
    `writes    ${j.outputs.join(', ') || '-'}`,
    `runs      ${j.runs}`,
    `last run  ${j.lastRun !== undefined ? `${j.lastRun.state} at ${j.lastRun.at}${j.lastRun.error !== undefined ? `: ${j.lastRun.error}` : ''}${j.lastRun.parent !== undefined ? ` (started by ${j.lastRun.parent})` : ''}` : '-'}`,
    '',
  ].join('\n')
}
