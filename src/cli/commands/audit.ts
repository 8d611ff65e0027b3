import { resolve } from 'node:path'
import { SluiceError } from '../../core/errors.ts'
import { AuditLog, type AuditEntry } from '../../server/audit.ts'
import { serverPaths } from '../../server/serve.ts'
import type { Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const auditCommand: Command = {
  name: 'audit',
  summary: "print the control plane's audit log",
  usage: 'sluice audit [--state-dir DIR | --url URL] [--json]',
  description: [
    'Prints every mutating and every refused call made to the control plane, oldest first: when, who (token',
    'id), role, method, path, HTTP status and outcome, and for a settings change each setting from and to.',
    'The log is append-only. While the server runs, its log is open: read it through the server with --url',
    'and an admin token in SLUICE_TOKEN.',
  ].join('\n'),
  positionals: { min: 0, max: 0, names: '' },
  flags: [
    { name: 'state-dir', type: 'string', placeholder: 'DIR', description: "the server's state folder (default '.sluice/server')" },
    { name: 'url', type: 'string', placeholder: 'URL', description: 'read from a running server (token in SLUICE_TOKEN)' },
    { name: 'json', type: 'boolean', description: 'one JSON object per line' },
  ],
  examples: ['sluice audit', 'SLUICE_TOKEN=slc_... sluice audit --url http://127.0.0.1:8080'],

  async run({ values }, ctx) {
    let entries: AuditEntry[]
    if (typeof values.url === 'string') {
      const res = await fetch(new URL('/api/audit', values.url), { headers: { authorization: `Bearer ${ctx.env.SLUICE_TOKEN ?? ''}` } })
      if (!res.ok) throw new SluiceError('SLUICE_BAD_ARGUMENT', `the server answered ${res.status}`, { hint: 'put an admin token in SLUICE_TOKEN (sluice token create --role admin)' })
      entries = (await res.json()) as AuditEntry[]
    } else {
      const audit = await AuditLog.open(serverPaths(resolve(ctx.cwd, typeof values['state-dir'] === 'string' ? values['state-dir'] : '.sluice/server')).audit).catch((e: unknown) => {
        // The running server holds its log: say how to read it there instead.
        if (e instanceof SluiceError && e.code === 'SLUICE_LOG_LOCKED') throw new SluiceError('SLUICE_LOG_LOCKED', `${e.message}: the control plane is running`, { domain: 'user', retryable: true, hint: 'read the audit log through the server: SLUICE_TOKEN=<admin token> sluice audit --url http://127.0.0.1:<port>' })
        throw e
      })
      try {
        entries = await audit.read(0, Number.MAX_SAFE_INTEGER)
      } finally {
        await audit.close()
      }
    }
    for (const e of entries) {
      ctx.stdout.write(values.json === true ? `${JSON.stringify(e)}\n` : `${new Date(e.at).toISOString()}  ${(e.who ?? '-').padEnd(8)}  ${(e.role ?? '-').padEnd(8)}  ${e.method.padEnd(6)} ${e.path}  ${e.status} ${e.outcome}${(e.changes ?? []).map((x) => `  ${x.setting}: ${JSON.stringify(x.from)} -> ${JSON.stringify(x.to)}`).join('')}\n`)
    }
    return exitCode.ok
  },
}
