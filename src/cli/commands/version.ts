import { readFileSync } from 'node:fs'
import type { Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

/** The version in package.json. */
export function sluiceVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string }
  return pkg.version ?? 'unknown'
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the version (same as --version)',
  usage: 'sluice version',
  positionals: { min: 0, max: 0, names: '' },
  flags: [],
  examples: ['sluice --version'],

  async run(_args, ctx) {
    ctx.stdout.write(`sluice ${sluiceVersion()} (node ${process.versions.node})\n`)
    return exitCode.ok
  },
}
