const QUOTED = /(["'`])(?:(?!\1)[^\\\n]|\\.)*\1/g
const MAX = 300

/**
 * A message from code that is not Sluice's (a user function, a parser) with every quoted part blanked:
 * such messages often quote the input (V8's JSON.parse says `Unexpected token 'M', "MARKER..." is not valid
 * JSON`), and a log line, an error message or a metric must never carry a record's contents. Cut at 300 characters.
 * @example scrubMessage(`Unexpected token 'x', "secret" is not valid JSON`) // `Unexpected token '…', "…" is not valid JSON`
 */
export function scrubMessage(message: string): string {
  const s = message.replace(QUOTED, (_m, q: string) => `${q}…${q}`)
  return s.length > MAX ? `${s.slice(0, MAX)}…` : s
}
