/** Where log text goes: a stream with `write` (stderr, a file stream, a test's collector). */
export interface LogOutput {
  write(chunk: string): unknown
  isTTY?: boolean
}

const LEVELS: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR', fatal: 'FATAL' }
const COLORS: Record<string, string> = { warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[31m', debug: '\x1b[90m', trace: '\x1b[90m' }
const HIDDEN = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'pipeline', 'err'])

/**
 * A destination for the logger that turns its JSON lines into one readable line each, for a terminal:
 * `12:00:01.250 INFO  checkpoint completed  checkpoint=4 bytes=8192`, errors as `code: message`.
 * @example createLogger({ pipeline: 'orders', format: 'pretty', destination: process.stderr })
 */
export function prettyOutput(out: LogOutput): LogOutput {
  const color = out.isTTY === true
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line === '') continue
        let o: Record<string, unknown>
        try {
          o = JSON.parse(line) as Record<string, unknown>
        } catch {
          out.write(`${line}\n`)
          continue
        }
        const level = String(o.level)
        const time = typeof o.time === 'string' ? o.time.slice(11, 23) : ''
        const fields = Object.entries(o).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        const err = o.err as { code?: string; message?: string } | undefined
        const tag = LEVELS[level] ?? level.toUpperCase()
        const head = color && COLORS[level] !== undefined ? `${COLORS[level]}${tag}\x1b[0m` : tag
        const errText = err !== undefined ? `  ${err.code !== undefined ? `${err.code}: ` : ''}${err.message ?? ''}` : ''
        out.write(`${time} ${head} ${String(o.msg ?? '')}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}${errText}\n`)
      }
    },
  }
}
