import type { Position } from '../../core/batch.ts'
import { userError, type SluiceError } from '../../core/errors.ts'
import { parseError } from './line-problems.ts'
import type { Source, SourceContext } from '../../core/source.ts'
import { checkFileOptions, checkPaths, openFileSource, type FileSourceOptions, type FileSourceReader, type RecordDecoder } from './file-source.ts'

/**
 * Options of `source.jsonl`: the file options (event time, watermark, partitions, follow mode) and an
 * optional `parse` that validates or converts each parsed line.
 * @example source.jsonl<Click>('data/clicks.jsonl', { eventTime: (c) => c.ts, watermark: watermark.boundedOutOfOrder('5s') })
 */
export interface JsonlSourceOptions<T> extends FileSourceOptions<T> {
  /** Converts or validates each parsed line; if it throws, the line is malformed. */
  parse?: (raw: unknown) => T
}

/** A JSON.parse failure described without the text it failed on (records may hold personal data). */
export function jsonError(e: unknown): SluiceError {
  const m = e instanceof Error ? /at position (\d+)/.exec(e.message) : null
  if (m !== null) return parseError('SLUICE_BAD_JSON', `not valid JSON (column ${Number(m[1]) + 1})`)
  if (e instanceof Error && /end of JSON input|Unterminated/.test(e.message)) return parseError('SLUICE_BAD_JSON', 'not valid JSON (unexpected end of line)')
  return parseError('SLUICE_BAD_JSON', 'not valid JSON')
}

function decoder<T>(ctx: SourceContext, parse: ((raw: unknown) => T) | undefined): RecordDecoder<T> {
  return {
    decode(texts: string[], lines: number[], file: string, values: T[], pos: Position[]): void {
      for (let i = 0; i < texts.length; i++) {
        const text = texts[i]
        let v: unknown
        try {
          v = JSON.parse(text)
        } catch (e) {
          if (text.trim() === '') continue
          ctx.malformed(jsonError(e), text, `${file}:${lines[i]}`)
          continue
        }
        if (parse !== undefined) {
          try {
            v = parse(v)
          } catch (e) {
            ctx.malformed(e, text, `${file}:${lines[i]}`)
            continue
          }
        }
        values.push(v as T)
        pos.push(`${file}:${lines[i]}`)
      }
    },
  }
}

/**
 * Reads files of one JSON value per line. `path` is a file, a glob pattern or an array of them; each
 * file is a partition with its own watermark, read in chunks (never whole). Blank lines are skipped;
 * a line that is not JSON (SLUICE_BAD_JSON), not valid UTF-8 (SLUICE_BAD_UTF8, see `invalidUtf8`),
 * longer than `maxRecordBytes` (SLUICE_RECORD_TOO_LARGE), or that `parse` rejects, goes to the
 * pipeline's error policy with its position `file:line` and its exact bytes. With `follow`, files are
 * tailed and the source is unbounded.
 * @example source.jsonl('logs/*.jsonl', { eventTime: (e) => e.ts, watermark: watermark.boundedOutOfOrder('5s') })
 */
export function jsonl<T = any>(path: string | readonly string[], options: JsonlSourceOptions<T> = {}): Source<T> {
  if (typeof options.parse !== 'undefined' && typeof options.parse !== 'function') throw userError('SLUICE_BAD_OPTION', 'source.jsonl: parse must be a function')
  checkPaths('jsonl', path)
  const pollMs = checkFileOptions('jsonl', options)
  const follow = options.follow === true
  return {
    kind: 'jsonl',
    bounded: !follow,
    assignSplitsOnDemand: true,
    options,
    describe: () => ({ kind: 'jsonl', path, follow, ...(follow ? { pollIntervalMs: pollMs, startAt: options.startAt ?? 'beginning' } : {}) }),
    open(ctx): Promise<FileSourceReader<T>> {
      return openFileSource({ kind: 'jsonl', decoder: (c) => decoder(c, options.parse) }, path, options, pollMs, ctx)
    },
  }
}
