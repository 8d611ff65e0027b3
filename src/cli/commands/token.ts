import { resolve } from 'node:path'
import { isRole } from '../../server/roles.ts'
import { TokenStore } from '../../server/tokens.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create or list control-plane tokens',
  usage: 'sluice token create --role <viewer|operator|admin> | sluice token list',
  description: [
    'Creates a token for the control plane (sluice serve) and prints it once: only its hash is stored, in',
    "<state-dir>/tokens.json. Roles: viewer reads; operator also checkpoints, savepoints and stops; admin",
    'also manages tokens and reads the audit log. A running server reads a token created while it runs on',
    'its next call (no restart); an admin can also create one through POST /api/tokens.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: "'create' or 'list'" },
  flags: [
    { name: 'role', type: 'string', placeholder: 'ROLE', description: 'viewer, operator or admin (for create)' },
    { name: 'state-dir', type: 'string', placeholder: 'DIR', description: "the server's state folder (default '.sluice/server')" },
  ],
  examples: ['sluice token create --role operator', 'sluice token list --state-dir state/server'],

  async run({ values, positionals }, ctx) {
    const store = await TokenStore.open(resolve(ctx.cwd, typeof values['state-dir'] === 'string' ? values['state-dir'] : '.sluice/server'))
    if (positionals[0] === 'list') {
      for (const t of store.list()) ctx.stdout.write(`${t.id}  ${t.role.padEnd(8)}  ${new Date(t.created).toISOString()}\n`)
      return exitCode.ok
    }
    if (positionals[0] !== 'create') throw new UsageError(`unknown action '${positionals[0]}' (create or list)`, 'token')
    if (!isRole(values.role)) throw new UsageError('--role must be viewer, operator or admin', 'token')
    const t = await store.create(values.role)
    ctx.stdout.write(`${t.token}\n`)
    ctx.stderr.write(`token ${t.id} (${t.role}) created; it is not shown again\n`)
    return exitCode.ok
  },
}
