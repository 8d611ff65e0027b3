// Small text notes beside a job's checkpoints (control requests and their answers, the Kafka runner's marks):
// files in a checkpoint folder, or objects under the prefix of `s3://bucket/prefix`, through one interface.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { isS3Url, parseS3Url } from './s3-location.ts'

/**
 * Text notes by name (`control/stop-1.request`, `runner/finished.json`) under a checkpoint location.
 * @example const notes = smallObjects('s3://state/clicks'); await notes.put('control/a.request', '{"stop":true}')
 */
export interface SmallObjects {
  /** Where the notes are, as the user wrote it (for messages). */
  readonly where: string
  /** The text of `name`, or undefined when there is none. */
  get(name: string): Promise<string | undefined>
  /** Writes `name` whole: a reader sees the old text, none, or all of the new one. */
  put(name: string, text: string): Promise<void>
  /** The names in folder `folder` (one level), sorted. */
  list(folder: string): Promise<string[]>
  /** Moves `from` to `to` (in a bucket: a copy, then the original is deleted). */
  rename(from: string, to: string): Promise<void>
  /** Frees the connection, if any. */
  close(): void
}

/** The notes of the checkpoint location `dir`: a folder, or `s3://bucket/prefix`. */
export function smallObjects(dir: string): SmallObjects {
  return isS3Url(dir) ? bucketObjects(dir) : folderObjects(dir)
}

function folderObjects(dir: string): SmallObjects {
  const file = (name: string): string => join(dir, name)
  return {
    where: dir,
    async get(name) {
      try {
        return await readFile(file(name), 'utf8')
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
    },
    async put(name, text) {
      mkdirSync(dirname(file(name)), { recursive: true })
      writeFileSync(`${file(name)}.tmp`, text)
      renameSync(`${file(name)}.tmp`, file(name))
    },
    async list(folder) {
      if (!existsSync(file(folder))) return []
      return readdirSync(file(folder)).sort()
    },
    async rename(from, to) {
      renameSync(file(from), file(to))
    },
    close() {},
  }
}

function bucketObjects(url: string): SmallObjects {
  const where = parseS3Url(url)
  const store = import('./object-store.ts')
  const sdk = import('@aws-sdk/client-s3')
  let client: S3Client | undefined
  const open = async (): Promise<S3Client> => (client ??= (await store).s3Client())
  const key = (name: string): string => where.prefix + name
  const self: SmallObjects = {
    where: url,
    async get(name) {
      const { GetObjectCommand } = await sdk
      try {
        const out = await (await open()).send(new GetObjectCommand({ Bucket: where.bucket, Key: key(name) }))
        return await out.Body!.transformToString()
      } catch (e) {
        if ((await store).isS3NotFound(e)) return undefined
        throw e
      }
    },
    async put(name, text) {
      const { PutObjectCommand } = await sdk
      await (await open()).send(new PutObjectCommand({ Bucket: where.bucket, Key: key(name), Body: text, ContentType: 'application/json' }))
    },
    async list(folder) {
      const prefix = key(folder.endsWith('/') ? folder : `${folder}/`)
      const keys = await (await store).listKeys(await open(), where.bucket, prefix)
      return keys.map((k) => k.slice(prefix.length)).filter((n) => n !== '' && !n.includes('/')).sort()
    },
    async rename(from, to) {
      const text = await self.get(from)
      if (text === undefined) throw new Error(`'${from}' is not in ${url}`)
      await self.put(to, text)
      await (await store).deleteKeys(await open(), where.bucket, [key(from)])
    },
    close() {
      client?.destroy()
      client = undefined
    },
  }
  return self
}

