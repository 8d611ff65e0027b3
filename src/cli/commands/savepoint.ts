import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { awaitAnswer, controlFolder, writeRequest } from '../../checkpoint/control.ts'
import { SluiceError } from '../../core/errors.ts'
import { parseDuration } from '../../core/duration.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const savepointCommand: Command = {
  name: 'savepoint',
  summary: 'take a savepoint of a running pipeline (and optionally stop it)',
  usage: 'sluice savepoint <checkpoint-dir> <target-dir> [--stop]',
  description: [
    'Asks the pipeline running with --checkpoint-dir <checkpoint-dir> to write a savepoint: a',
    'self-contained copy of its state and source positions in <target-dir>, which must not exist yet.',
    'Resume from it with: sluice run <pipeline.ts> --checkpoint-dir <dir> --restore-from <target-dir>',
    '(with another --parallelism if you like: state is redistributed by key group).',
    'The request travels as a file in <checkpoint-dir>/control/; this command waits for the answer.',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: 'the running pipeline\'s checkpoint folder and the savepoint folder' },
  flags: [
    { name: 'stop', type: 'boolean', description: 'stop the pipeline gracefully once the savepoint is written' },
    { name: 'timeout', type: 'string', placeholder: 'DURATION', description: "how long to wait for the pipeline to answer (default '60s')" },
  ],
  examples: ['sluice savepoint state/clicks savepoints/before-upgrade --stop'],

  async run({ values, positionals }, ctx) {
    const dir = resolve(ctx.cwd, positionals[0])
    const target = resolve(ctx.cwd, positionals[1])
    let timeoutMs: number
    try {
      timeoutMs = parseDuration(typeof values.timeout === 'string' ? values.timeout : '60s', '--timeout')
    } catch (e) {
      throw new UsageError((e as Error).message, 'savepoint')
    }
    if (!existsSync(dir)) throw new SluiceError('SLUICE_NO_CHECKPOINT_DIR', `'${positionals[0]}' does not exist: is a pipeline running with --checkpoint-dir ${positionals[0]}?`)
    if (existsSync(target)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `'${positionals[1]}' already exists; a savepoint needs a new folder`)
    const request = writeRequest(dir, `savepoint-${Date.now()}-${process.pid}`, { target, stop: values.stop === true })
    const answer = await awaitAnswer(request, Date.now() + timeoutMs)
    if (answer === undefined) {
      throw new SluiceError('SLUICE_SAVEPOINT_TIMEOUT', `no answer within ${timeoutMs} ms: is a pipeline running with --checkpoint-dir ${positionals[0]}?`, {
        domain: 'external',
        hint: `the request stays in ${controlFolder(dir)} and is served when the pipeline next looks`,
      })
    }
    if ('failed' in answer) throw new SluiceError('SLUICE_SAVEPOINT_FAILED', `the pipeline could not write the savepoint: ${answer.failed}`, { domain: 'external' })
    const r = answer.done as { id: number; bytes: number }
    ctx.stdout.write(`savepoint ${r.id} written to ${positionals[1]} (${(r.bytes / 1024).toFixed(1)} KiB)${values.stop === true ? '; the pipeline is stopping' : ''}\n`)
    return exitCode.ok
  },
}
