import { createReadStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { userError } from '../../core/errors.ts'
import { buildQualityReport, renderQualityHtml } from '../../contracts/quality/report.ts'
import type { QualityResult } from '../../contracts/quality/window-checks.ts'

export const qualityCommand: Command = {
  name: 'quality',
  summary: 'report on quality expectations: JSON and a readable HTML page',
  usage: 'sluice quality report <results.jsonl> [--json report.json] [--html report.html]',
  description: [
    "Reads the results of a pipeline's expect steps (its 'quality' output written as JSON lines, e.g.",
    "stream.expect([...]).sideOutput('quality').to(sink.jsonl('quality.jsonl'))) and sums them per step and",
    'expectation: windows passed and failed, records checked and failed, and what was observed in the windows',
    'that failed. Without --json or --html, prints the JSON report. Exit code 3 when an expectation failed.',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: 'the action and the results file (sluice quality report <results.jsonl>)' },
  flags: [
    { name: 'json', type: 'string', placeholder: 'FILE', description: 'write the JSON report here' },
    { name: 'html', type: 'string', placeholder: 'FILE', description: 'write the HTML page here' },
    { name: 'title', type: 'string', placeholder: 'TEXT', description: 'title of the HTML page' },
  ],
  examples: ['sluice quality report out/quality.jsonl --html out/quality.html --json out/quality.json'],
  notes: 'Exit codes:\n  0    every expectation passed\n  2    usage error\n  3    at least one expectation failed, or the results file cannot be read',

  async run({ positionals, values }, ctx) {
    const [action, file] = positionals
    if (action !== 'report') throw new UsageError(`unknown action '${action}'; use 'report'`, 'quality')
    const path = resolve(ctx.cwd, file)
    const results: QualityResult[] = []
    let line = 0
    try {
      for await (const l of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
        line++
        if (l.trim() === '') continue
        const r = JSON.parse(l) as QualityResult
        if (typeof r?.expectation !== 'string' || typeof r.passed !== 'boolean') throw new Error('not a quality result')
        results.push(r)
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      throw userError(code === 'ENOENT' ? 'SLUICE_FILE_NOT_FOUND' : 'SLUICE_BAD_JSON', code === 'ENOENT' ? `file '${file}' does not exist` : `${file}:${line}: ${e instanceof Error ? e.message : String(e)}`, { position: code === 'ENOENT' ? undefined : `${file}:${line}`, hint: "give the JSON lines of an expect step's 'quality' output" })
    }
    const report = buildQualityReport(results)
    const json = JSON.stringify(report, null, 2) + '\n'
    if (typeof values.json === 'string') await writeFile(resolve(ctx.cwd, values.json), json)
    if (typeof values.html === 'string') await writeFile(resolve(ctx.cwd, values.html), renderQualityHtml(report, typeof values.title === 'string' ? values.title : undefined))
    if (values.json === undefined && values.html === undefined) ctx.stdout.write(json)
    else ctx.stdout.write(`${report.passed ? 'every expectation passed' : `${report.expectations.filter((e) => e.windowsFailed > 0).length} of ${report.expectations.length} expectations failed`} (${report.results} results)\n`)
    return report.passed ? exitCode.ok : exitCode.userError
  },
}
