import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { awaitAnswer, controlFolder, writeRequest } from '../../checkpoint/control.ts'
import { isS3Url } from '../../checkpoint/s3-location.ts'
import { smallObjects } from '../../checkpoint/small-objects.ts'
import { SluiceError } from '../../core/errors.ts'
import { parseDuration } from '../../core/duration.ts'
import { UsageError } from '../command.ts'

/** The checkpoint location a control command names: `s3://bucket/prefix` as given, or a folder that exists. */
export function checkpointLocation(arg: string, cwd: string): string {
  if (isS3Url(arg)) return arg.replace(/\/+$/, '')
  const dir = resolve(cwd, arg)
  if (!existsSync(dir)) throw new SluiceError('SLUICE_NO_CHECKPOINT_DIR', `'${arg}' does not exist: is a pipeline running with --checkpoint-dir ${arg}?`)
  return dir
}

/** `--timeout` of a control command, in ms (default 60 s). */
export function answerTimeout(value: unknown, command: string): number {
  try {
    return parseDuration(typeof value === 'string' ? value : '60s', '--timeout')
  } catch (e) {
    throw new UsageError((e as Error).message, command)
  }
}

/**
 * Leaves a request beside the checkpoints at `location` and waits for the job's answer: what it answered, or
 * its error as `failed`; no answer within the timeout throws `timeoutCode`, naming where the request stays.
 */
export async function askJob(
  location: string,
  arg: string,
  name: string,
  body: Parameters<typeof writeRequest>[2],
  timeoutMs: number,
  timeoutCode: 'SLUICE_STOP_TIMEOUT' | 'SLUICE_SAVEPOINT_TIMEOUT',
): Promise<{ done: unknown } | { failed: string }> {
  const notes = smallObjects(location)
  try {
    let request: string
    try {
      request = await writeRequest(notes, `${name}-${Date.now()}-${process.pid}`, body)
    } catch (e) {
      throw new SluiceError('SLUICE_CONTROL_UNREACHABLE', `cannot leave the request in ${controlFolder(location)}: ${(e as Error).message}`, { domain: 'external', hint: 'check the location and, for s3://, the endpoint and credentials (SLUICE_S3_ENDPOINT, AWS_*)' })
    }
    const answer = await awaitAnswer(notes, request, Date.now() + timeoutMs)
    if (answer === undefined) {
      throw new SluiceError(timeoutCode, `no answer within ${timeoutMs} ms: is a pipeline running with --checkpoint-dir ${arg}?`, {
        domain: 'external',
        hint: `the request stays in ${controlFolder(location)} and is served when the pipeline next looks`,
      })
    }
    return answer
  } finally {
    notes.close()
  }
}
