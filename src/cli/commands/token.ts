import { resolve } from 'node:path'
import { isRole } from '../../server/roles.ts'
import { TokenStore } from '../../server/tokens.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create, list or revoke control-plane tokens',
  usage: 'sluice token create --role <viewer|operator|admin> | sluice token list | sluice token revoke <id>',
  description: [
    'Creates a token for the control plane (sluice serve) and prints it once: only its hash is stored, in',
    "<state-dir>/tokens.json. Roles: viewer reads; operator also checkpoints, savepoints and stops; admin",
    'also manages tokens and reads the audit log. A running server reads a token created while it runs on',
    'its next call (no restart); an admin can also create one through POST /api/tokens. A revoked token',
    '(sluice token revoke <id>, or DELETE /api/tokens/<id>) is refused from the next call on; the last admin',
    'token cannot be revoked.',
  ].join('\n'),
  positionals: { min: 1, max: 2, names: "'create', 'list' or 'revoke <id>'" },
  flags: [
    { name: 'role', type: 'string', placeholder: 'ROLE', description: 'viewer, operator or admin (for create)' },
    { name: 'state-dir', type: 'string', placeholder: 'DIR', description: "the server's state folder (default '.sluice/server')" },
  ],
  examples: ['sluice token create --role operator', 'sluice token list --state-dir state/server', 'sluice token revoke 3f9a01bc'],

  async run({ values, positionals }, ctx) {
    const store = await TokenStore.open(resolve(ctx.cwd, typeof values['state-dir'] === 'string' ? values['state-dir'] : '.sluice/server'))
    if (positionals[0] !== 'revoke' && positionals.length > 1) throw new UsageError(`'${positionals[0]}' takes no other argument`, 'token')
    if (positionals[0] === 'list') {
      for (const t of store.list()) ctx.stdout.write(`${t.id}  ${t.role.padEnd(8)}  ${new Date(t.created).toISOString()}\n`)
      return exitCode.ok
    }
    if (positionals[0] === 'revoke') {
      const id = positionals[1]
      if (id === undefined) throw new UsageError('give the id of the token to revoke (sluice token list shows them)', 'token')
      if (!(await store.revoke(id))) throw new UsageError(`no token with id '${id}' (sluice token list shows them)`, 'token')
      ctx.stderr.write(`token ${id} revoked\n`)
      return exitCode.ok
    }
    if (positionals[0] !== 'create') throw new UsageError(`unknown action '${positionals[0]}' (create, list or revoke)`, 'token')
    if (!isRole(values.role)) throw new UsageError('--role must be viewer, operator or admin', 'token')
    const t = await store.create(values.role)
    ctx.stdout.write(`${t.token}\n`)
    ctx.stderr.write(`token ${t.id} (${t.role}) created; it is not shown again\n`)
    return exitCode.ok
  },
}
