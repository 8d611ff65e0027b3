import type { Position } from '../../core/batch.ts'
import { SluiceError, userError } from '../../core/errors.ts'
import { lazyRequire } from '../../core/lazy-require.ts'
import { parseError } from './line-problems.ts'
import type { Source, SourceContext } from '../../core/source.ts'
import { checkFileOptions, checkPaths, openFileSource, type FileInput, type FileSourceOptions, type FileSourceReader, type RecordDecoder } from './file-source.ts'
import { LineReader, type QuoteRule } from './line-reader.ts'

const parseCsv: typeof import('csv-parse/sync').parse = (...args: Parameters<typeof import('csv-parse/sync').parse>) => csvParse().parse(...args)
const csvParse = lazyRequire<typeof import('csv-parse/sync')>(import.meta.url, 'csv-parse/sync')

/**
 * How a CSV field is converted. An empty field becomes null for every type but 'string'.
 * @example source.csv<Order>('data/orders.csv', { types: { amount: 'number', qty: 'number' } }) // other fields stay strings
 */
export type CsvType = 'number' | 'string' | 'boolean' | 'json'

/**
 * Options of `source.csv`: the file options (event time, watermark, partitions) and how lines become
 * records: `columns`, `delimiter`, `quote`, `types` conversions and a `parse` function.
 * @example source.csv<Order>('data/orders.csv', { types: { amount: 'number' }, eventTime: (o) => Date.parse(o.time) })
 */
export interface CsvSourceOptions<T> extends FileSourceOptions<T> {
  /** Field names; when given, the first line is data, not a header. */
  columns?: string[]
  /** One ASCII character. Default ','. */
  delimiter?: string
  /** One ASCII character. Default '"'. */
  quote?: string
  /** Conversions by field name; a field that does not convert makes its line malformed. */
  types?: Record<string, CsvType>
  /** Converts or validates each row; if it throws, the line is malformed. */
  parse?: (row: Record<string, unknown>) => T
  /**
   * Quoted fields may hold line breaks (default false: every line is a record, so one stray quote
   * costs only its own line). A quoted field still open after `maxRecordBytes` (or at the end of the
   * file) is an error for its first line, and reading resumes on the line after it.
   */
  multiline?: boolean
}

type Convert = (s: string) => unknown

const notConverted = Symbol('not converted')

const converters: Record<CsvType, Convert | undefined> = {
  string: undefined,
  number: (s) => {
    if (s === '') return null
    const n = Number(s)
    return s.trim() === '' || Number.isNaN(n) ? notConverted : n
  },
  boolean: (s) => {
    if (s === '') return null
    const l = s.toLowerCase()
    return l === 'true' || l === '1' ? true : l === 'false' || l === '0' ? false : notConverted
  },
  json: (s) => {
    if (s === '') return null
    try {
      return JSON.parse(s)
    } catch {
      return notConverted
    }
  },
}

function asciiChar(kind: string, name: string, value: string | undefined, fallback: string): number {
  const v = value ?? fallback
  if (typeof v !== 'string' || v.length !== 1 || v.charCodeAt(0) > 127 || v === '\n' || v === '\r') {
    throw userError('SLUICE_BAD_OPTION', `source.${kind}: ${name} must be one ASCII character other than a line break, got '${String(v)}'`)
  }
  return v.charCodeAt(0)
}

/** A csv-parse failure described by its code, without the text it failed on. */
function csvError(e: unknown): SluiceError {
  const code = typeof (e as { code?: unknown } | undefined)?.code === 'string' ? (e as { code: string }).code : undefined
  return parseError('SLUICE_BAD_CSV', `not valid CSV${code !== undefined ? ` (${code})` : ''}`)
}

class CsvDecoder<T> implements RecordDecoder<T> {
  private readonly ctx: SourceContext
  private readonly options: CsvSourceOptions<T>
  private readonly rule: QuoteRule | undefined
  private readonly csvOptions: { delimiter: string; quote: string; record_delimiter: string; relax_column_count: boolean }
  /** Field names and converters by file (each file has its own header), and where its records start. */
  private readonly headers = new Map<string, { layout: Layout; end: { offset: number; line: number } }>()
  private readonly given: Layout | undefined

  constructor(ctx: SourceContext, options: CsvSourceOptions<T>, rule: QuoteRule) {
    this.ctx = ctx
    this.options = options
    this.rule = options.multiline === true ? rule : undefined
    this.csvOptions = { delimiter: String.fromCharCode(rule.delimiter), quote: String.fromCharCode(rule.quote), record_delimiter: '\n', relax_column_count: true }
    this.given = options.columns === undefined ? undefined : layout(options.columns, options.types, ctx.stepId, undefined)
  }

  async prepare(file: FileInput, final: boolean): Promise<{ offset: number; line: number } | undefined> {
    const known = this.headers.get(file.path)
    if (known !== undefined) return known.end
    if (this.given !== undefined) {
      const end = { offset: 0, line: 0 }
      this.headers.set(file.path, { layout: this.given, end })
      return end
    }
    const reader = new LineReader(file.handle, { chunkSize: file.chunkSize, sizeHint: Math.min(file.sizeHint, 1 << 16), quoteRule: this.rule, maxRecordBytes: this.options.maxRecordBytes })
    for (;;) {
      const got = await reader.read(1, final)
      if (got.texts.length === 0) return undefined
      const at = `${file.path}:${got.lines[0]}`
      if (got.problems?.[0] !== undefined) {
        throw userError('SLUICE_CSV_BAD_HEADER', `the header of '${file.path}' is not readable (${got.problems[0].kind})`, { step: this.ctx.stepId, position: at })
      }
      if (got.texts[0] === '') continue
      let names: string[]
      try {
        names = parseCsv(got.texts[0], this.csvOptions)[0]
      } catch (e) {
        throw userError('SLUICE_CSV_BAD_HEADER', `the header of '${file.path}' is not valid CSV`, { step: this.ctx.stepId, position: at, cause: csvError(e) })
      }
      const end = { offset: reader.offset, line: reader.line }
      this.headers.set(file.path, { layout: layout(names, this.options.types, this.ctx.stepId, at), end })
      return end
    }
  }

  forget(file: string): void {
    this.headers.delete(file)
  }

  decode(texts: string[], lines: number[], file: string, values: T[], pos: Position[]): void {
    const shape = this.headers.get(file)!.layout
    if (texts.includes('')) {
      const keep = texts.map((t, i) => (t === '' ? -1 : i)).filter((i) => i >= 0)
      texts = keep.map((i) => texts[i])
      lines = keep.map((i) => lines[i])
      if (texts.length === 0) return
    }
    // One parse call for the batch; only a batch with a bad record is parsed again record by record.
    let rows: string[][] | undefined
    try {
      rows = parseCsv(texts.join('\n'), this.csvOptions)
      if (rows.length !== texts.length) rows = undefined
    } catch {
      rows = undefined
    }
    const { parse } = this.options
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i]
      let fields: string[]
      if (rows !== undefined) {
        fields = rows[i]
      } else {
        try {
          fields = parseCsv(text, this.csvOptions)[0]
        } catch (e) {
          this.ctx.malformed(csvError(e), text, `${file}:${lines[i]}`)
          continue
        }
      }
      const at = `${file}:${lines[i]}`
      const row = toRow(fields, shape.columns, shape.convert)
      if (row instanceof SluiceError) {
        this.ctx.malformed(row, text, at)
        continue
      }
      let v: unknown = row
      if (parse !== undefined) {
        try {
          v = parse(row)
        } catch (e) {
          this.ctx.malformed(e, text, at)
          continue
        }
      }
      values.push(v as T)
      pos.push(at)
    }
  }
}

interface Layout {
  columns: string[]
  convert: (Convert | undefined)[]
}

function layout(columns: unknown, types: Record<string, CsvType> | undefined, step: string | undefined, position: string | undefined): Layout {
  if (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string')) {
    throw userError('SLUICE_BAD_OPTION', 'source.csv: columns must be a non-empty array of field names', { step, position })
  }
  const seen = new Set<string>()
  for (const c of columns as string[]) {
    if (seen.has(c)) throw userError(position === undefined ? 'SLUICE_BAD_OPTION' : 'SLUICE_CSV_BAD_HEADER', `source.csv: field name '${c}' appears twice`, { step, position })
    seen.add(c)
  }
  for (const [name, type] of Object.entries(types ?? {})) {
    if (!seen.has(name)) {
      throw userError('SLUICE_BAD_OPTION', `source.csv: types names field '${name}', which is not among the ${position === undefined ? 'columns' : 'header fields'}`, { step, position })
    }
    if (!Object.hasOwn(converters, type)) throw userError('SLUICE_BAD_OPTION', `source.csv: type of '${name}' must be 'number', 'string', 'boolean' or 'json', got '${String(type)}'`, { step })
  }
  return { columns: columns as string[], convert: (columns as string[]).map((c) => (types !== undefined && Object.hasOwn(types, c) ? converters[types[c]] : undefined)) }
}

function toRow(fields: string[], columns: string[], convert: (Convert | undefined)[]): Record<string, unknown> | SluiceError {
  if (fields.length !== columns.length) return parseError('SLUICE_BAD_CSV', `expected ${columns.length} fields, found ${fields.length}`)
  const row: Record<string, unknown> = {}
  for (let j = 0; j < columns.length; j++) {
    const c = convert[j]
    if (c === undefined) {
      row[columns[j]] = fields[j]
      continue
    }
    const v = c(fields[j])
    if (v === notConverted) return parseError('SLUICE_BAD_CSV', `field '${columns[j]}' is not a valid ${typeName(c)}`)
    row[columns[j]] = v
  }
  return row
}

function typeName(c: Convert): string {
  return c === converters.number ? 'number' : c === converters.boolean ? 'boolean' : 'JSON value'
}

/**
 * Reads CSV files: the header row names the fields (or `columns` does, and every line is data). Quoted
 * fields may hold delimiters and quotes (""), and line breaks only with `multiline: true`; LF and CRLF
 * both end records; empty lines are skipped. `types` converts fields; a line that does not parse or
 * convert (SLUICE_BAD_CSV: an unbalanced quote is an error for its line only), is not valid UTF-8 or is
 * too long goes to the pipeline's error policy with its position `file:line` and its exact bytes. Each
 * file is a partition, read in chunks.
 * @example source.csv('trips/*.csv', { types: { fare: 'number' }, eventTime: (t) => Date.parse(t.pickup) })
 */
export function csv<T = Record<string, any>>(path: string | readonly string[], options: CsvSourceOptions<T> = {}): Source<T> {
  checkPaths('csv', path)
  const pollMs = checkFileOptions('csv', options)
  if (options.parse !== undefined && typeof options.parse !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.csv: parse must be a function')
  if (options.types !== undefined && (typeof options.types !== 'object' || options.types === null)) throw userError('SLUICE_BAD_OPTION', 'source.csv: types must be an object of field name to type')
  const rule: QuoteRule = { delimiter: asciiChar('csv', 'delimiter', options.delimiter, ','), quote: asciiChar('csv', 'quote', options.quote, '"') }
  if (rule.delimiter === rule.quote) throw userError('SLUICE_BAD_OPTION', 'source.csv: delimiter and quote must differ')
  if (options.columns !== undefined) layout(options.columns, options.types, undefined, undefined)
  const follow = options.follow === true
  return {
    kind: 'csv',
    bounded: !follow,
    assignSplitsOnDemand: true,
    options,
    describe: () => ({
      kind: 'csv',
      path,
      delimiter: String.fromCharCode(rule.delimiter),
      header: options.columns === undefined,
      multiline: options.multiline === true,
      follow,
      ...(follow ? { pollIntervalMs: pollMs, startAt: options.startAt ?? 'beginning' } : {}),
    }),
    open(ctx): Promise<FileSourceReader<T>> {
      return openFileSource({ kind: 'csv', quoteRule: options.multiline === true ? rule : undefined, decoder: (c) => new CsvDecoder<T>(c, options, rule) }, path, options, pollMs, ctx)
    },
  }
}
