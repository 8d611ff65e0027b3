import type { CliContext, Command } from './command.ts'
import { UsageError, formatCommandHelp, parseCommandArgs } from './command.ts'
import { checkCommand } from './commands/check.ts'
import { initCommand } from './commands/init.ts'
import { describeCommand } from './commands/describe.ts'
import { findCommand, formatOverview, helpCommand } from './commands/help.ts'
import { runCommand } from './commands/run.ts'
import { savepointCommand } from './commands/savepoint.ts'
import { stateCommand } from './commands/state.ts'
import { stopCommand } from './commands/stop.ts'
import { workerCommand } from './commands/worker.ts'
import { nexmarkCommand } from './commands/nexmark.ts'
import { logCommand } from './commands/log.ts'
import { dlqCommand } from './commands/dlq.ts'
import { registryCommand } from './commands/registry.ts'
import { qualityCommand } from './commands/quality.ts'
import { sloCommand } from './commands/slo.ts'
import { versionCommand } from './commands/version.ts'
import { keysCommand } from './commands/keys.ts'
import { serveCommand } from './commands/serve.ts'
import { tokenCommand } from './commands/token.ts'
import { auditCommand } from './commands/audit.ts'
import { settingsCommand } from './commands/settings.ts'
import { workflowCommand } from './commands/workflow.ts'
import { catalogCommand } from './commands/catalog.ts'
import { retentionCommand } from './commands/retention.ts'
import { exitCode } from './exit-codes.ts'
import { reportError } from './report-error.ts'

/**
 * The commands of `sluice`, in the order `sluice --help` lists them. To add one, write
 * src/cli/commands/<name>.ts exporting a `Command` (see command.ts: name, summary, usage, flags,
 * positionals, examples, run) and add it here; parsing, `--help` and error reporting come for free.
 * @example commands.map((c) => c.name) // the names `sluice --help` lists, 'run' among them
 */
export const commands: readonly Command[] = [
  initCommand,
  runCommand,
  checkCommand,
  describeCommand,
  savepointCommand,
  stateCommand,
  stopCommand,
  workerCommand,
  nexmarkCommand,
  logCommand,
  dlqCommand,
  registryCommand,
  qualityCommand,
  catalogCommand,
  retentionCommand,
  keysCommand,
  sloCommand,
  serveCommand,
  tokenCommand,
  auditCommand,
  settingsCommand,
  workflowCommand,
  helpCommand,
  versionCommand,
]

/**
 * Runs the CLI on `argv` (without node and script) and resolves with the exit code.
 * @example const code = await main(['run', 'pipeline.ts', '--param', 'day=2026-01-01']) // 0 when the run succeeded
 */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  try {
    const [first, ...rest] = argv
    if (first === undefined) {
      ctx.stderr.write(formatOverview(ctx))
      return exitCode.usage
    }
    if (first === '--help' || first === '-h') return await helpCommand.run({ values: {}, positionals: rest.slice(0, 1) }, ctx)
    if (first === '--version' || first === '-v') return await versionCommand.run({ values: {}, positionals: [] }, ctx)
    if (first.startsWith('-')) throw new UsageError(`unknown flag '${first}' (give a command first, e.g. sluice run <pipeline.ts>)`)
    const cmd = findCommand(ctx.commands, first)
    const args = parseCommandArgs(cmd, rest)
    if (args.help) {
      ctx.stdout.write(formatCommandHelp(cmd))
      return exitCode.ok
    }
    return await cmd.run(args, ctx)
  } catch (e) {
    return reportError(e, ctx)
  }
}

function processContext(): CliContext {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, commands }
}

/**
 * Entry point of bin/sluice.js: runs `main` and exits with its code. The exit is forced shortly after
 * if something left in the event loop (an open handle in user code) would keep the process alive.
 * @example await runCli(process.argv.slice(2)) // what bin/sluice.js does
 */
export async function runCli(argv: string[]): Promise<void> {
  const code = await main(argv)
  process.exitCode = code
  setTimeout(() => process.exit(code), 500).unref()
}
