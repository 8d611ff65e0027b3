import type { ErrorCode } from '../../core/error-codes.ts'
import { isUtf8 } from 'node:buffer'
import { SluiceError } from '../../core/errors.ts'
import type { SourceContext } from '../../core/source.ts'
import type { LineBatch, LineProblem } from './line-reader.ts'

/** The raw payload of a record for the error policy: its exact bytes, as a string when they are valid UTF-8. */
export function rawRecord(bytes: Buffer): string | Buffer {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes
}

/** A parse error: a stable code, the reason, never the record's contents. */
export function parseError(code: ErrorCode, message: string, recordBytes?: number): SluiceError {
  const e = new SluiceError(code, message, { domain: 'user' })
  // Read by the dead-letter record, which keeps the original size of a truncated payload.
  if (recordBytes !== undefined) Object.assign(e, { recordBytes })
  return e
}

function problemError(p: LineProblem, max: number | undefined): SluiceError {
  if (p.kind === 'invalid-utf8') return parseError('SLUICE_BAD_UTF8', 'the line is not valid UTF-8')
  if (p.kind === 'unterminated-quote') return parseError('SLUICE_BAD_CSV', 'a quoted field is not closed on this line (or within maxRecordBytes)')
  return parseError('SLUICE_RECORD_TOO_LARGE', `the record takes ${p.size} bytes, more than maxRecordBytes (${max ?? 'default'})`, p.size)
}

/**
 * Applies the source's choices to records the line reader could not take as text: invalid UTF-8 is
 * decoded when `invalidUtf8` says so, else the record goes to the error policy with its exact bytes
 * (`ctx.malformed`) and is removed from the batch, as are over-long records and unterminated quotes.
 */
export function settleProblems(got: LineBatch, file: string, o: { invalidUtf8?: 'error' | 'replace' | 'latin1'; maxRecordBytes?: number }, ctx: SourceContext): void {
  const problems = got.problems!
  const texts: string[] = []
  const lines: number[] = []
  for (let i = 0; i < got.texts.length; i++) {
    const p = problems[i]
    if (p === undefined) {
      texts.push(got.texts[i])
      lines.push(got.lines[i])
      continue
    }
    if (p.kind === 'invalid-utf8' && o.invalidUtf8 !== undefined && o.invalidUtf8 !== 'error') {
      texts.push(p.bytes.toString(o.invalidUtf8 === 'latin1' ? 'latin1' : 'utf8'))
      lines.push(got.lines[i])
      continue
    }
    ctx.malformed(problemError(p, o.maxRecordBytes), rawRecord(p.bytes), `${file}:${got.lines[i]}`)
  }
  got.texts = texts
  got.lines = lines
  got.problems = undefined
}
