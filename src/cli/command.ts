import { parseArgs } from 'node:util'

/** One flag of a command: declared once, it gives the parser option and the help line. */
export interface FlagSpec {
  name: string
  type: 'string' | 'boolean'
  short?: string
  /** May be given several times (values collected in order). */
  multiple?: boolean
  /** Shown in help after the flag, e.g. 'N' or 'key=value'. */
  placeholder?: string
  description: string
}

/** What a command gets besides its arguments: where to write, where it runs. */
export interface CliContext {
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /** Every registered command (for `help`). */
  readonly commands: readonly Command[]
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/**
 * A `sluice` subcommand. Register it in the list in src/cli/main.ts. `--help` is added to every command;
 * `run` returns the process exit code (see exit-codes.ts) or throws (UsageError, SluiceError, anything).
 */
export interface Command {
  name: string
  /** One line for the command list. */
  summary: string
  /** The synopsis, e.g. 'sluice run <pipeline.ts> [flags]'. */
  usage: string
  /** A paragraph under the synopsis. */
  description?: string
  flags: FlagSpec[]
  /** Positional arguments: how many are required, and at most how many are accepted. */
  positionals: { min: number; max: number; names: string }
  examples: string[]
  /** Further help sections, already formatted (e.g. exit codes). */
  notes?: string
  run(args: ParsedArgs, ctx: CliContext): Promise<number>
}

/** Bad flags or arguments: the CLI prints the message and a pointer to --help, and exits with 2. */
export class UsageError extends Error {
  readonly command: string | undefined
  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

const helpFlag: FlagSpec = { name: 'help', short: 'h', type: 'boolean', description: 'show this help' }

/** Parses a command's arguments strictly: unknown flags, missing values and extra arguments are usage errors. */
export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs & { help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const f of [...cmd.flags, helpFlag]) {
    options[f.name] = { type: f.type, ...(f.short !== undefined ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(parseErrorMessage(e), cmd.name)
  }
  const values = parsed.values as ParsedArgs['values']
  const help = values.help === true
  if (!help) {
    const n = parsed.positionals.length
    if (n < cmd.positionals.min) throw new UsageError(`missing ${cmd.positionals.names}`, cmd.name)
    if (n > cmd.positionals.max) throw new UsageError(`unexpected argument '${parsed.positionals[cmd.positionals.max]}'`, cmd.name)
  }
  return { values, positionals: parsed.positionals, help }
}

function parseErrorMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  // node:util phrases these for scripts; keep the first sentence, which names the flag.
  const first = msg.split('. ')[0].replace(/\.$/, '')
  return first.charAt(0).toLowerCase() + first.slice(1)
}

/** A positive integer flag value, or a usage error naming the flag. */
export function positiveIntFlag(values: ParsedArgs['values'], name: string, command: string): number | undefined {
  const raw = values[name]
  if (raw === undefined) return undefined
  const s = String(raw)
  const n = Number(s)
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${s}'`, command)
  return n
}

/** `--param key=value` flags as an object; a later value for the same key wins. */
export function paramsFlag(values: ParsedArgs['values'], command: string): Record<string, string> {
  const raw = values.param
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)]
  const params: Record<string, string> = {}
  for (const p of list) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new UsageError(`--param needs key=value, got '${p}'`, command)
    params[p.slice(0, eq)] = p.slice(eq + 1)
  }
  return params
}

/** The help text of a command: synopsis, description, flags, examples, notes. */
export function formatCommandHelp(cmd: Command): string {
  const flags = [...cmd.flags, helpFlag]
  const left = flags.map((f) => `${f.short !== undefined ? `-${f.short}, ` : '    '}--${f.name}${f.placeholder !== undefined ? ` ${f.placeholder}` : ''}`)
  const width = Math.max(...left.map((l) => l.length))
  const lines = [`Usage: ${cmd.usage}`, '']
  if (cmd.description !== undefined) lines.push(cmd.description, '')
  lines.push('Flags:')
  flags.forEach((f, i) => lines.push(`  ${left[i].padEnd(width)}  ${f.description}${f.multiple ? ' (repeatable)' : ''}`))
  if (cmd.examples.length > 0) lines.push('', cmd.examples.length === 1 ? 'Example:' : 'Examples:', ...cmd.examples.map((e) => `  ${e}`))
  if (cmd.notes !== undefined) lines.push('', cmd.notes)
  return lines.join('\n') + '\n'
}
