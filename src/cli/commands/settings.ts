import { SluiceError } from '../../core/errors.ts'
import { UsageError, type Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

/** `records=operators`, `jobs.orders.checkpointInterval=30s` → the body of `PATCH /api/settings`. */
function patchOf(assignments: readonly string[]): Record<string, unknown> {
  const body: { records?: string; jobs?: Record<string, { checkpointInterval: string }> } = {}
  for (const a of assignments) {
    const m = /^([^=]+)=(.*)$/.exec(a)
    const job = m && /^jobs\.(.+)\.checkpointInterval$/.exec(m[1]!)
    if (m?.[1] === 'records') body.records = m[2]!
    else if (job) (body.jobs ??= {})[job[1]!] = { checkpointInterval: m![2]! }
    else throw new UsageError(`'${a}': give records=<masked|operators> or jobs.<job>.checkpointInterval=<duration>`, 'settings')
  }
  return body
}

export const settingsCommand: Command = {
  name: 'settings',
  summary: "show or change a running control plane's settings",
  usage: 'sluice settings --url URL [SETTING=VALUE...] [--json]',
  description: [
    'Without settings, prints what the server runs with: where it listens and keeps its files, each job with',
    'its checkpoint folder and interval, and the settings that change while it runs. With settings, changes',
    'them (checked whole, then applied, and audited): jobs.<job>.checkpointInterval=<duration> and',
    'records=masked|operators (operators: dead letters and late samples unmasked for operators and admins).',
    'Needs an admin token in SLUICE_TOKEN.',
  ].join('\n'),
  positionals: { min: 0, max: 16, names: '[SETTING=VALUE...]' },
  flags: [
    { name: 'url', type: 'string', placeholder: 'URL', description: 'the running server (token in SLUICE_TOKEN)' },
    { name: 'json', type: 'boolean', description: "the server's answer as JSON" },
  ],
  examples: ['SLUICE_TOKEN=slc_... sluice settings --url http://127.0.0.1:8080', 'SLUICE_TOKEN=slc_... sluice settings --url http://127.0.0.1:8080 jobs.orders.checkpointInterval=30s records=operators'],

  async run({ values, positionals }, ctx) {
    if (typeof values.url !== 'string') throw new UsageError('give the running server with --url', 'settings')
    const change = positionals.length > 0
    const res = await fetch(new URL('/api/settings', values.url), {
      method: change ? 'PATCH' : 'GET',
      headers: { authorization: `Bearer ${ctx.env.SLUICE_TOKEN ?? ''}`, ...(change ? { 'content-type': 'application/json' } : {}) },
      ...(change ? { body: JSON.stringify(patchOf(positionals)) } : {}),
    })
    const answer = (await res.json().catch(() => ({}))) as Record<string, any>
    if (!res.ok) {
      const why = typeof answer.error?.message === 'string' ? `: ${answer.error.message}` : ''
      throw new SluiceError('SLUICE_BAD_ARGUMENT', `the server answered ${res.status}${why}`, res.status === 401 || res.status === 403 ? { hint: 'put an admin token in SLUICE_TOKEN (sluice token create --role admin)' } : {})
    }
    if (values.json === true) ctx.stdout.write(`${JSON.stringify(answer)}\n`)
    else if (change) for (const c of answer.changes as { setting: string; from: unknown; to: unknown }[]) ctx.stdout.write(`${c.setting}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}\n`)
    else {
      const lines: string[] = []
      if (answer.server !== null) lines.push(`server      ${answer.server.host}:${answer.server.port}`)
      if (answer.files !== null) for (const [k, v] of Object.entries(answer.files as Record<string, string>)) lines.push(`${k.padEnd(11)} ${v}`)
      for (const j of answer.jobs as { name: string; status: string; checkpointDir: string | null; checkpointInterval: string | null }[]) lines.push(`job ${j.name} (${j.status}): checkpoints ${j.checkpointInterval === null ? 'none' : `every ${j.checkpointInterval}`}${j.checkpointDir !== null ? ` in ${j.checkpointDir}` : ''}`)
      lines.push(`records     ${answer.settings.records}`)
      ctx.stdout.write(`${lines.join('\n')}\n`)
    }
    return exitCode.ok
  },
}
