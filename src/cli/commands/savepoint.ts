import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { isS3Url } from '../../checkpoint/s3-location.ts'
import { objectSavepointExists } from '../../checkpoint/object-savepoint.ts'
import { SluiceError } from '../../core/errors.ts'
import type { Command } from '../command.ts'
import { answerTimeout, askJob, checkpointLocation } from './control-request.ts'
import { exitCode } from '../exit-codes.ts'

export const savepointCommand: Command = {
  name: 'savepoint',
  summary: 'take a savepoint of a running pipeline (and optionally stop it)',
  usage: 'sluice savepoint <checkpoint-dir> <target-dir> [--stop]',
  description: [
    'Asks the pipeline running with --checkpoint-dir <checkpoint-dir> to write a savepoint: a',
    'self-contained copy of its state and source positions in <target-dir>, which must not exist yet:',
    'a folder on the machine that runs the pipeline, or s3://bucket/prefix (the objects are uploaded',
    'file by file, the manifest last; endpoint and keys from SLUICE_S3_ENDPOINT and AWS_*).',
    'Resume from it with: sluice run <pipeline.ts> --checkpoint-dir <dir> --restore-from <target-dir>',
    '(with another --parallelism if you like: state is redistributed by key group).',
    'The request travels as a file in <checkpoint-dir>/control/ (an object under the prefix for an',
    's3://bucket/prefix checkpoint location); this command waits for the answer.',
  ].join('\n'),
  positionals: { min: 2, max: 2, names: 'the running pipeline\'s checkpoint folder and the savepoint folder' },
  flags: [
    { name: 'stop', type: 'boolean', description: 'stop the pipeline gracefully once the savepoint is written' },
    { name: 'timeout', type: 'string', placeholder: 'DURATION', description: "how long to wait for the pipeline to answer (default '60s')" },
  ],
  examples: ['sluice savepoint state/clicks savepoints/before-upgrade --stop', 'sluice savepoint s3://state/clicks s3://state/savepoints/before-upgrade --stop'],

  async run({ values, positionals }, ctx) {
    const timeoutMs = answerTimeout(values.timeout, 'savepoint')
    const location = checkpointLocation(positionals[0], ctx.cwd)
    const inBucket = isS3Url(positionals[1])
    const target = inBucket ? positionals[1] : resolve(ctx.cwd, positionals[1])
    if (inBucket ? await objectSavepointExists(target) : existsSync(target)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `'${positionals[1]}' already exists; a savepoint needs a new ${inBucket ? 'prefix' : 'folder'}`)
    const answer = await askJob(location, positionals[0], 'savepoint', { target, stop: values.stop === true }, timeoutMs, 'SLUICE_SAVEPOINT_TIMEOUT')
    if ('failed' in answer) throw new SluiceError('SLUICE_SAVEPOINT_FAILED', `the pipeline could not write the savepoint: ${answer.failed}`, { domain: 'external' })
    const r = answer.done as { id: number; bytes: number }
    ctx.stdout.write(`savepoint ${r.id} written to ${positionals[1]} (${(r.bytes / 1024).toFixed(1)} KiB)${values.stop === true ? '; the pipeline is stopping' : ''}\n`)
    return exitCode.ok
  },
}
