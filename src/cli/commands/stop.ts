import { SluiceError } from '../../core/errors.ts'
import type { Command } from '../command.ts'
import { answerTimeout, askJob, checkpointLocation } from './control-request.ts'
import { exitCode } from '../exit-codes.ts'

export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop a running pipeline gracefully',
  usage: 'sluice stop <checkpoint-dir>',
  description: [
    'Asks the pipeline running with --checkpoint-dir <checkpoint-dir> to stop gracefully: its sources stop',
    'reading, what is in flight drains, a last checkpoint is taken and the sinks commit. Starting it again',
    'with the same --checkpoint-dir resumes where it stopped.',
    'The request travels as a file in <checkpoint-dir>/control/ (an object under the prefix for an',
    's3://bucket/prefix checkpoint location); this command returns once the stop is',
    'under way (sluice savepoint <checkpoint-dir> <target-dir> --stop also keeps a savepoint).',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: "the running pipeline's checkpoint folder" },
  flags: [{ name: 'timeout', type: 'string', placeholder: 'DURATION', description: "how long to wait for the pipeline to answer (default '60s')" }],
  examples: ['sluice stop state/clicks', 'sluice stop s3://state/clicks'],

  async run({ values, positionals }, ctx) {
    const timeoutMs = answerTimeout(values.timeout, 'stop')
    const location = checkpointLocation(positionals[0], ctx.cwd)
    const answer = await askJob(location, positionals[0], 'stop', { stop: true }, timeoutMs, 'SLUICE_STOP_TIMEOUT')
    if ('failed' in answer) throw new SluiceError('SLUICE_STOP_FAILED', `the pipeline did not take the stop request: ${answer.failed}`, { domain: 'external' })
    ctx.stdout.write('the pipeline is stopping\n')
    return exitCode.ok
  },
}
