import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isS3Url, parseS3Url } from '../../checkpoint/s3-location.ts'

/** How a Kafka-runner job ended: it finished (bounded input) or was stopped. */
export type EndedAs = 'finished' | 'stopped'

/**
 * What a Kafka-runner job notes beside its checkpoints, for every worker to find: that it ended (`runner/finished.json`:
 * workers started afterwards exit at once) and that a stop is under way (`runner/stopping.json`: every later
 * run stops at once). Files in a checkpoint folder, or objects under the prefix of an `s3://bucket/prefix`.
 * @example const marks = runnerMarks('s3://state/clicks'); if ((await marks.ended()) !== undefined) return
 */
export interface RunnerMarks {
  ended(): Promise<EndedAs | undefined>
  markEnded(status: EndedAs): Promise<void>
  stopping(): Promise<boolean>
  /** Written before the stop request is answered (synchronously in a folder). */
  markStopping(): void | Promise<void>
  close(): void
}

export function runnerMarks(dir: string): RunnerMarks {
  return isS3Url(dir) ? bucketMarks(dir) : folderMarks(dir)
}

const FINISHED = 'runner/finished.json'
const STOPPING = 'runner/stopping.json'
const body = (x: Record<string, unknown>): string => JSON.stringify({ ...x, at: new Date().toISOString() }) + '\n'
const endedOf = (text: string): EndedAs => {
  try {
    return (JSON.parse(text) as { status?: string }).status === 'stopped' ? 'stopped' : 'finished'
  } catch {
    return 'finished'
  }
}

function folderMarks(dir: string): RunnerMarks {
  const file = (name: string): string => join(dir, name)
  return {
    async ended() {
      if (!existsSync(file(FINISHED))) return undefined
      return endedOf(await readFile(file(FINISHED), 'utf8').catch(() => ''))
    },
    async markEnded(status) {
      await mkdir(join(dir, 'runner'), { recursive: true })
      await writeFile(file(FINISHED), body({ status }))
    },
    stopping: async () => existsSync(file(STOPPING)),
    markStopping() {
      mkdirSync(join(dir, 'runner'), { recursive: true })
      writeFileSync(file(STOPPING), body({}))
    },
    close() {},
  }
}

function bucketMarks(url: string): RunnerMarks {
  const where = parseS3Url(url)
  const store = import('../../checkpoint/object-store.ts')
  const sdk = import('@aws-sdk/client-s3')
  let client: Awaited<ReturnType<Awaited<typeof store>['s3Client']>> | undefined
  const open = async () => (client ??= (await store).s3Client())
  const get = async (name: string): Promise<string | undefined> => {
    const { GetObjectCommand } = await sdk
    try {
      const out = await (await open()).send(new GetObjectCommand({ Bucket: where.bucket, Key: where.prefix + name }))
      return await out.Body!.transformToString()
    } catch (e) {
      if ((await store).isS3NotFound(e)) return undefined
      throw e
    }
  }
  const put = async (name: string, text: string): Promise<void> => {
    const { PutObjectCommand } = await sdk
    await (await open()).send(new PutObjectCommand({ Bucket: where.bucket, Key: where.prefix + name, Body: text, ContentType: 'application/json' }))
  }
  return {
    async ended() {
      const text = await get(FINISHED)
      return text === undefined ? undefined : endedOf(text)
    },
    markEnded: (status) => put(FINISHED, body({ status })),
    stopping: async () => (await get(STOPPING)) !== undefined,
    markStopping: () => put(STOPPING, body({})),
    close() {
      client?.destroy()
      client = undefined
    },
  }
}
