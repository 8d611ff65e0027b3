import { existsSync, readdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { LocalKeyring } from '../../privacy/keys/local-keyring.ts'
import { masterKeyFrom, MASTER_KEY_ENV } from '../../privacy/keys/master-key.ts'
import { reencryptDataset } from '../../privacy/reencrypt.ts'
import { reencryptDeadLetters } from '../../dlq/rotate.ts'
import { reencryptLogTopics } from '../../privacy/reencrypt-log.ts'
import { deadLetterTopics } from '../../dlq/reader.ts'
import { openLog } from '../../log/log.ts'
import { join } from 'node:path'

const actions = ['create', 'list', 'rotate'] as const

export const keysCommand: Command = {
  name: 'keys',
  summary: 'the local keyring of privacy transforms: create it, list keys, rotate and re-encrypt data',
  usage: 'sluice keys <create|list|rotate> <keyring.json> [flags]',
  description: [
    'create <file>   a new keyring with a current key for each purpose: default (encrypt), hash, vault (tokenize)',
    'list <file>     key ids, purposes, creation times and which are current (never key material)',
    'rotate <file> [--purpose p] [--reencrypt <dataset>]...',
    '                adds a key and makes it current; new data uses it, old data still decrypts. With',
    '                --reencrypt, every ciphertext of the dataset (a JSONL file or a folder of part files)',
    '                under an older key is re-encrypted under the current one, file by file, atomically; an',
    '                embedded log folder (sink.log, deadLetter.dir) has the ciphertexts in the JSON values of',
    '                its topics (the personal fields of its dead letters) re-encrypted in place, offsets kept',
    '                (run it when no job has that log open)',
    '',
    `Keys are stored wrapped under the master key in ${MASTER_KEY_ENV} (32 bytes, base64 or hex).`,
  ].join('\n'),
  positionals: { min: 2, max: 2, names: `an action (${actions.join(', ')}) and the keyring file` },
  flags: [
    { name: 'purpose', short: 'p', type: 'string', placeholder: 'PURPOSE', description: 'rotate: the purpose whose key is replaced (default: default)' },
    { name: 'reencrypt', type: 'string', multiple: true, placeholder: 'DATASET', description: 'rotate: re-encrypt this dataset under the new key (repeatable)' },
    { name: 'json', type: 'boolean', description: 'list: print JSON lines' },
  ],
  examples: [
    'export SLUICE_MASTER_KEY="$(openssl rand -base64 32)"',
    'sluice keys create secrets/keyring.json',
    'sluice keys rotate secrets/keyring.json --reencrypt out/customers',
    'sluice keys rotate secrets/keyring.json --reencrypt state/orders-dlq',
  ],

  async run(args, ctx) {
    const [action, fileArg] = args.positionals
    if (!(actions as readonly string[]).includes(action)) throw new UsageError(`unknown action '${action}'; use one of ${actions.join(', ')}`, 'keys')
    const path = resolve(ctx.cwd, fileArg)
    const master = masterKeyFrom(ctx.env)
    const out = (s: string) => void ctx.stdout.write(`${s}\n`)
    if (action === 'create') {
      const ring = LocalKeyring.openOrCreate(path, master)
      out(`keyring ${fileArg}: ${ring.list().length} keys (${ring.list().filter((k) => k.current).map((k) => k.purpose).join(', ')})`)
      return exitCode.ok
    }
    const ring = LocalKeyring.open(path, master)
    if (action === 'list') {
      for (const k of ring.list()) out(args.values.json === true ? JSON.stringify(k) : `${k.id}  ${k.purpose.padEnd(8)}  ${k.createdAt}${k.current ? '  current' : ''}`)
      return exitCode.ok
    }
    const purpose = typeof args.values.purpose === 'string' ? args.values.purpose : 'default'
    const datasets = Array.isArray(args.values.reencrypt) ? args.values.reencrypt : []
    for (const d of datasets) {
      const dir = resolve(ctx.cwd, d)
      if (!existsSync(dir)) throw new UsageError(`--reencrypt: dataset '${d}' does not exist (no key was rotated)`, 'keys')
      if (statSync(dir).isDirectory() && !existsSync(join(dir, 'sluice-log.json')) && !readdirSync(dir).some((f) => f.endsWith('.jsonl'))) {
        throw new UsageError(`--reencrypt: '${d}' is neither a folder of .jsonl files nor an embedded log folder (no key was rotated)`, 'keys')
      }
    }
    const id = ring.rotate(purpose)
    out(`new current ${purpose} key: ${id}`)
    for (const d of datasets) {
      const dir = resolve(ctx.cwd, d)
      if (existsSync(join(dir, 'sluice-log.json'))) {
        const dlq = await letterTopics(dir)
        if (dlq.length > 0) {
          const r = await reencryptDeadLetters(dir, ring)
          out(`${d}: ${r.reencrypted} values re-encrypted in ${r.letters} dead letters of ${r.topics} topics (${r.current} were current)`)
        }
        const r = await reencryptLogTopics(dir, ring, (t) => !dlq.includes(t))
        if (r.topics > 0 || dlq.length === 0) out(`${d}: ${r.reencrypted} values re-encrypted in ${r.records} records of ${r.topics} topics (${r.current} were current)`)
        continue
      }
      const r = await reencryptDataset(resolve(ctx.cwd, d), ring)
      out(`${d}: ${r.reencrypted} values re-encrypted in ${r.files} files (${r.records} records; ${r.current} were current)`)
    }
    return exitCode.ok
  },
}

/** The dead-letter topics of an embedded log folder. */
async function letterTopics(dir: string): Promise<string[]> {
  const log = await openLog(dir, { retentionCheckMs: 0 })
  try {
    return await deadLetterTopics(log)
  } finally {
    await log.close()
  }
}
