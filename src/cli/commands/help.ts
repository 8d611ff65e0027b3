import type { Command, CliContext } from '../command.ts'
import { UsageError, formatCommandHelp } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const helpCommand: Command = {
  name: 'help',
  summary: 'show help for sluice or one of its commands',
  usage: 'sluice help [command]',
  positionals: { min: 0, max: 1, names: 'a command' },
  flags: [],
  examples: ['sluice help run'],

  async run({ positionals }, ctx) {
    const name = positionals[0]
    if (name === undefined) {
      ctx.stdout.write(formatOverview(ctx))
      return exitCode.ok
    }
    ctx.stdout.write(formatCommandHelp(findCommand(ctx.commands, name)))
    return exitCode.ok
  },
}

export function findCommand(commands: readonly Command[], name: string): Command {
  const cmd = commands.find((c) => c.name === name)
  if (cmd === undefined) throw new UsageError(`unknown command '${name}' (commands: ${commands.map((c) => c.name).join(', ')})`)
  return cmd
}

/** `sluice --help`: what Sluice is, the commands, global flags. */
export function formatOverview(ctx: CliContext): string {
  const width = Math.max(...ctx.commands.map((c) => c.name.length))
  return [
    'sluice: run stream and batch pipelines written in TypeScript',
    '',
    'Usage: sluice <command> [flags]',
    '',
    'Commands:',
    ...ctx.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Flags:',
    '  -h, --help     show help (also: sluice <command> --help)',
    '  -v, --version  print the version',
    '',
    'Example:',
    '  sluice run examples/quickstart/pipeline.ts',
    '',
  ].join('\n')
}
