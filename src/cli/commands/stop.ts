import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { awaitAnswer, controlFolder, writeRequest } from '../../checkpoint/control.ts'
import { SluiceError } from '../../core/errors.ts'
import { parseDuration } from '../../core/duration.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop a running pipeline gracefully',
  usage: 'sluice stop <checkpoint-dir>',
  description: [
    'Asks the pipeline running with --checkpoint-dir <checkpoint-dir> to stop gracefully: its sources stop',
    'reading, what is in flight drains, a last checkpoint is taken and the sinks commit. Starting it again',
    'with the same --checkpoint-dir resumes where it stopped.',
    'The request travels as a file in <checkpoint-dir>/control/; this command returns once the stop is',
    'under way (sluice savepoint <checkpoint-dir> <target-dir> --stop also keeps a savepoint).',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: "the running pipeline's checkpoint folder" },
  flags: [{ name: 'timeout', type: 'string', placeholder: 'DURATION', description: "how long to wait for the pipeline to answer (default '60s')" }],
  examples: ['sluice stop state/clicks'],

  async run({ values, positionals }, ctx) {
    const dir = resolve(ctx.cwd, positionals[0])
    let timeoutMs: number
    try {
      timeoutMs = parseDuration(typeof values.timeout === 'string' ? values.timeout : '60s', '--timeout')
    } catch (e) {
      throw new UsageError((e as Error).message, 'stop')
    }
    if (!existsSync(dir)) throw new SluiceError('SLUICE_NO_CHECKPOINT_DIR', `'${positionals[0]}' does not exist: is a pipeline running with --checkpoint-dir ${positionals[0]}?`)
    const request = writeRequest(dir, `stop-${Date.now()}-${process.pid}`, { stop: true })
    const answer = await awaitAnswer(request, Date.now() + timeoutMs)
    if (answer === undefined) {
      throw new SluiceError('SLUICE_STOP_TIMEOUT', `no answer within ${timeoutMs} ms: is a pipeline running with --checkpoint-dir ${positionals[0]}?`, {
        domain: 'external',
        hint: `the request stays in ${controlFolder(dir)} and is served when the pipeline next looks`,
      })
    }
    if ('failed' in answer) throw new SluiceError('SLUICE_STOP_FAILED', `the pipeline did not take the stop request: ${answer.failed}`, { domain: 'external' })
    ctx.stdout.write('the pipeline is stopping\n')
    return exitCode.ok
  },
}
