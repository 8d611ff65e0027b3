import { isUtf8 } from 'node:buffer'
import type { ReadableFile } from './decompress.ts'

/** Bytes per file read by default. */
export const DEFAULT_CHUNK_SIZE = 1 << 20
/** Longest record by default (`maxRecordBytes`). */
export const DEFAULT_MAX_RECORD_BYTES = 16 << 20
const MIN_CHUNK_SIZE = 64 << 10

const NL = 10
const CR = 13
const BOM = [0xef, 0xbb, 0xbf]

/** CSV quoting: a line break inside a quoted field does not end the record. */
export interface QuoteRule {
  /** The quote byte (ASCII). */
  quote: number
  /** The field delimiter byte (ASCII). */
  delimiter: number
}

export interface LineReaderOptions {
  /** Byte offset to start at; must be the start of a record. Default 0. */
  offset?: number
  /** Lines before `offset` (the next record is line `line + 1`). Default 0. */
  line?: number
  /** Bytes per read; default 1 MiB. */
  chunkSize?: number
  /** File size when opened: a smaller buffer serves small files. */
  sizeHint?: number
  /** With a quote rule, records may span lines (CSV); without, a record is one line. */
  quoteRule?: QuoteRule
  /**
   * Longest record in bytes (default 16 MiB). A longer line is a 'too-long' record holding its first
   * `maxRecordBytes` bytes, the rest skipped up to the next line break; a quoted field still open past
   * it (or at the end of the file) is an 'unterminated-quote' record of its first line only, and
   * reading goes on from the line after it.
   */
  maxRecordBytes?: number
}

/**
 * Why a record could not be taken as text: its bytes are not valid UTF-8, it is longer than
 * `maxRecordBytes`, or a quoted field in it never closes. `bytes` are the record's exact bytes (without
 * the line ending; at most `maxRecordBytes` of them), `size` its full length.
 */
export interface LineProblem {
  kind: 'invalid-utf8' | 'too-long' | 'unterminated-quote'
  bytes: Buffer
  size: number
}

/** Records read by one `read` call, with the 1-based line each starts at. */
export interface LineBatch {
  texts: string[]
  lines: number[]
  /** The end of the file was reached (no further complete record for now). */
  eof: boolean
  /** Present when some record has a problem; undefined for the others (their text is exact). */
  problems?: (LineProblem | undefined)[]
}

// Quote scanner states (see scan()).
const FIELD_START = 0
const UNQUOTED = 1
const QUOTED = 2
const QUOTE_IN_QUOTED = 3

/**
 * Splits a file into records (LF or CRLF lines), reading it in large chunks through one FileHandle and
 * never holding more than one chunk plus one record (at most `maxRecordBytes`). Works on bytes: a line
 * break byte never occurs inside a multi-byte UTF-8 character, so characters split across chunks are
 * decoded whole; a record that is not valid UTF-8 is reported with its bytes, never decoded with
 * replacement characters. Tracks the byte offset and line number of the next record, which is where a
 * restart resumes.
 */
export class LineReader {
  private readonly fh: ReadableFile
  private readonly quoteRule: QuoteRule | undefined
  private buf: Buffer
  private start = 0
  private end = 0
  /** File offset of the next read. */
  private filePos: number
  /** Pieces of a record begun in earlier chunks. */
  private carry: Buffer[] = []
  private carryLen = 0
  /** Lines consumed. */
  private lineNo: number
  /** Quote scanner state and line breaks inside the record being scanned. */
  private qstate = FIELD_START
  private inner = 0
  /** Where the scan of the current record stopped within buf. */
  private scanned = 0
  private nextQuote = -1
  private bomChecked: boolean
  private readonly maxRecordBytes: number
  /** Skipping the rest of a line longer than maxRecordBytes: its head, size so far and start offset. */
  private skipping: { head: Buffer; size: number; from: number; lastCR: boolean } | undefined
  private problems: (LineProblem | undefined)[] | undefined

  constructor(fh: ReadableFile, opts: LineReaderOptions = {}) {
    this.fh = fh
    this.quoteRule = opts.quoteRule
    this.filePos = opts.offset ?? 0
    this.lineNo = opts.line ?? 0
    this.bomChecked = this.filePos !== 0
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
    const remaining = opts.sizeHint === undefined ? chunk : opts.sizeHint - this.filePos + 1
    this.buf = Buffer.allocUnsafe(Math.max(1, Math.min(chunk, Math.max(remaining, MIN_CHUNK_SIZE))))
  }

  /** Byte offset of the next unread record. */
  get offset(): number {
    return this.skipping !== undefined ? this.skipping.from : this.filePos - (this.end - this.start) - this.carryLen
  }

  /** Byte offset up to which the file has been read (held partial records included). */
  get readOffset(): number {
    return this.filePos
  }

  /** Lines consumed so far (the next record starts at line `line + 1`). */
  get line(): number {
    return this.lineNo
  }

  /**
   * Reads up to `max` records. With `final`, a last line without its line break is a record; without
   * (a file still being written), it is held until its line break arrives.
   */
  async read(max: number, final: boolean): Promise<LineBatch> {
    const texts: string[] = []
    const lines: number[] = []
    this.problems = undefined
    while (texts.length < max) {
      const nl = this.bomChecked || this.checkBom() ? this.findEnd() : -1
      if (nl >= 0) {
        // A quoted field that spans lines past the limit: only its first line is the (bad) record.
        if (this.inner > 0 && this.carryLen + nl - this.start > this.maxRecordBytes && this.rewind(texts, lines)) continue
        lines.push(this.lineNo + 1)
        this.lineNo += this.inner + 1
        if (this.skipping !== undefined) this.endSkip(nl, texts)
        else texts.push(this.take(nl, texts.length))
        this.start = nl + 1
        this.resetScan()
        continue
      }
      // No record end in the buffer: keep the partial record (up to the limit) and read on.
      if (this.end > this.start) {
        if (this.skipping !== undefined) {
          this.skipping.size += this.end - this.start
          this.skipping.lastCR = this.buf[this.end - 1] === CR
        } else {
          this.carry.push(Buffer.copyBytesFrom(this.buf, this.start, this.end - this.start))
          this.carryLen += this.end - this.start
        }
        this.start = this.end
      }
      if (this.carryLen > this.maxRecordBytes && this.overflow(texts, lines)) continue
      this.start = this.end = this.scanned = 0
      this.nextQuote = -1
      const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, this.filePos)
      if (bytesRead === 0) {
        if (final && this.qstate === QUOTED && this.inner > 0 && this.rewind(texts, lines)) continue
        if (final && (this.carryLen > 0 || this.skipping !== undefined)) {
          lines.push(this.lineNo + 1)
          this.lineNo += this.inner + 1
          if (this.skipping !== undefined) this.endSkip(0, texts)
          else texts.push(this.take(0, texts.length))
          this.resetScan()
        }
        return this.batch(texts, lines, true)
      }
      this.filePos += bytesRead
      this.end = bytesRead
    }
    return this.batch(texts, lines, false)
  }

  private batch(texts: string[], lines: number[], eof: boolean): LineBatch {
    const b: LineBatch = { texts, lines, eof }
    if (this.problems !== undefined) {
      this.problems.length = texts.length
      b.problems = this.problems
      this.problems = undefined
    }
    return b
  }

  private problem(i: number, p: LineProblem): void {
    this.problems ??= []
    this.problems[i] = p
  }

  /**
   * The record being collected passed maxRecordBytes. A quoted field open across lines is cut back to
   * its first line (reported as unterminated); a single line starts being skipped to its end. Returns
   * true when a record was produced.
   */
  private overflow(texts: string[], lines: number[]): boolean {
    if (this.quoteRule !== undefined && this.inner > 0) return this.rewind(texts, lines)
    const all = Buffer.concat(this.carry)
    this.skipping = { head: Buffer.copyBytesFrom(all, 0, this.maxRecordBytes), size: all.length, from: this.filePos - all.length, lastCR: all[all.length - 1] === CR }
    this.carry = []
    this.carryLen = 0
    return false
  }

  /**
   * Ends the record being collected at its first line break: that line is an 'unterminated-quote'
   * record, and the bytes after it are scanned again as new records (resynchronising at the next line).
   */
  private rewind(texts: string[], lines: number[]): boolean {
    const all = Buffer.concat([...this.carry, this.buf.subarray(this.start, this.end)])
    const k = all.indexOf(NL)
    if (k < 0) return false
    const stop = k > 0 && all[k - 1] === CR ? k - 1 : k
    const head = Buffer.copyBytesFrom(all, 0, Math.min(stop, this.maxRecordBytes))
    lines.push(this.lineNo + 1)
    this.lineNo += 1
    this.problem(texts.length, { kind: 'unterminated-quote', bytes: head, size: stop })
    texts.push('')
    const rest = all.subarray(k + 1)
    if (rest.length > this.buf.length) this.buf = Buffer.allocUnsafe(rest.length)
    rest.copy(this.buf, 0)
    this.start = 0
    this.end = rest.length
    this.carry = []
    this.carryLen = 0
    this.resetScan()
    this.nextQuote = -1
    return true
  }

  /** Ends a skipped over-long line at buf[nl]: a 'too-long' record holding its first bytes. */
  private endSkip(nl: number, texts: string[]): void {
    const sk = this.skipping!
    let size = sk.size + (nl - this.start)
    if (nl > this.start ? this.buf[nl - 1] === CR : sk.lastCR) size--
    this.problem(texts.length, { kind: 'too-long', bytes: sk.head, size })
    texts.push('')
    this.skipping = undefined
  }

  /**
   * Drops a UTF-8 byte order mark at the start of the file. Returns false while too few bytes have
   * arrived to tell (a file being written); nothing is scanned before this is decided.
   */
  private checkBom(): boolean {
    const head = Buffer.concat([...this.carry, this.buf.subarray(this.start, Math.min(this.end, this.start + 3))]).subarray(0, 3)
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== BOM[i]) {
        this.bomChecked = true
        return true
      }
    }
    if (head.length < 3) return false
    this.bomChecked = true
    let drop = 3
    while (drop > 0 && this.carry.length > 0) {
      const c = this.carry[0]
      if (c.length <= drop) {
        drop -= c.length
        this.carryLen -= c.length
        this.carry.shift()
      } else {
        this.carry[0] = c.subarray(drop)
        this.carryLen -= drop
        drop = 0
      }
    }
    this.start += drop
    this.scanned = this.start
    return true
  }

  private resetScan(): void {
    this.qstate = FIELD_START
    this.inner = 0
    this.scanned = this.start
  }

  /**
   * Decodes the carried bytes plus buf[start, nl) as record `i` of the batch, without its trailing CR.
   * A record that is not valid UTF-8 or too long is reported as a problem (its text is then '').
   */
  private take(nl: number, i: number): string {
    let bytes: Buffer
    if (this.carryLen === 0) {
      const stop = nl > this.start && this.buf[nl - 1] === CR ? nl - 1 : nl
      if (stop - this.start <= this.maxRecordBytes) {
        const text = this.buf.toString('utf8', this.start, stop)
        // A replacement character in the text is either in the input or a sign of invalid bytes.
        if (!text.includes('\uFFFD') || isUtf8(this.buf.subarray(this.start, stop))) return text
      }
      bytes = this.buf.subarray(this.start, stop)
    } else {
      if (nl > this.start) this.carry.push(this.buf.subarray(this.start, nl))
      const all = Buffer.concat(this.carry)
      const stop = all.length > 0 && all[all.length - 1] === CR ? all.length - 1 : all.length
      this.carry = []
      this.carryLen = 0
      bytes = all.subarray(0, stop)
      if (bytes.length <= this.maxRecordBytes) {
        const text = bytes.toString('utf8')
        if (!text.includes('\uFFFD') || isUtf8(bytes)) return text
      }
    }
    const tooLong = bytes.length > this.maxRecordBytes
    this.problem(i, { kind: tooLong ? 'too-long' : 'invalid-utf8', bytes: Buffer.copyBytesFrom(bytes, 0, Math.min(bytes.length, this.maxRecordBytes)), size: bytes.length })
    return ''
  }

  /** Index in buf of the line break that ends the current record, or -1. */
  private findEnd(): number {
    const from = this.scanned
    if (from >= this.end) return -1
    const nl = this.buf.indexOf(NL, from)
    const stop = nl < 0 || nl >= this.end ? -1 : nl
    const rule = this.skipping === undefined ? this.quoteRule : undefined
    if (rule === undefined) {
      this.scanned = stop < 0 ? this.end : stop
      return stop
    }
    // Fast path: outside quotes and no quote before the line break.
    if (this.qstate === FIELD_START || this.qstate === UNQUOTED) {
      if (this.nextQuote < from) {
        const q = this.buf.indexOf(rule.quote, from)
        this.nextQuote = q < 0 || q >= this.end ? this.end : q
      }
      if (stop >= 0 && this.nextQuote > stop) {
        this.scanned = stop
        return stop
      }
    }
    return this.scan(from, rule)
  }

  /** Walks buf from `from`, tracking quotes, to the first line break outside quotes. */
  private scan(from: number, rule: QuoteRule): number {
    const buf = this.buf
    const { quote, delimiter } = rule
    let s = this.qstate
    for (let i = from; i < this.end; i++) {
      const c = buf[i]
      if (s === QUOTED) {
        if (c === quote) s = QUOTE_IN_QUOTED
        else if (c === NL) this.inner++
        continue
      }
      if (c === NL) {
        this.qstate = s
        this.scanned = i
        return i
      }
      if (c === delimiter) s = FIELD_START
      else if (c === quote) s = s === FIELD_START ? QUOTED : s === QUOTE_IN_QUOTED ? QUOTED : UNQUOTED
      else s = UNQUOTED
    }
    this.qstate = s
    this.scanned = this.end
    return -1
  }
}

/**
 * Counts the complete lines of an open file, for starting at its end: returns the offset just after
 * the last line break and the number of lines before it.
 */
export async function endOfLastLine(fh: ReadableFile, chunkSize = DEFAULT_CHUNK_SIZE): Promise<{ offset: number; line: number }> {
  const buf = Buffer.allocUnsafe(chunkSize)
  let pos = 0
  let line = 0
  let offset = 0
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos)
    if (bytesRead === 0) return { offset, line }
    let i = buf.indexOf(NL, 0)
    while (i >= 0 && i < bytesRead) {
      line++
      offset = pos + i + 1
      i = buf.indexOf(NL, i + 1)
    }
    pos += bytesRead
  }
}
