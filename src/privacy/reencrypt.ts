import { createReadStream } from 'node:fs'
import { open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { userError } from '../core/errors.ts'
import type { KeyProvider } from './keys/key-provider.ts'
import { ciphertextKeyId, decryptValue, encryptValue, isCiphertext } from './transforms/encrypt.ts'

/** What `reencryptDataset` did. */
export interface ReencryptReport {
  readonly files: number
  readonly records: number
  /** Ciphertexts that were under an older key and now are under the current one. */
  readonly reencrypted: number
  /** Ciphertexts already under the current key. */
  readonly current: number
}

/**
 * Re-encrypts every Sluice ciphertext in a JSONL dataset (one file, or a folder of `.jsonl` part files) whose
 * key is not the current key of its purpose, so retired keys can be destroyed. Each file is rewritten into a
 * temporary file and renamed over the original once complete: a crash leaves every file either old or new,
 * both readable. Run it when no pipeline writes the dataset.
 * @example await reencryptDataset('out/customers', keyring) // { files: 4, reencrypted: 1200, ... }
 */
export async function reencryptDataset(path: string, keys: KeyProvider): Promise<ReencryptReport> {
  let info
  try {
    info = await stat(path)
  } catch {
    throw userError('SLUICE_FILE_NOT_FOUND', `dataset '${path}' does not exist`)
  }
  const files = info.isDirectory() ? (await readdir(path)).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(path, f)) : [path]
  // A folder of other files (Parquet parts, say) would be "re-encrypted" with nothing done: say so instead.
  if (files.length === 0) throw userError('SLUICE_BAD_ARGUMENT', `dataset '${path}' holds no .jsonl files`, { hint: 'a JSONL file, a folder of .jsonl part files or an embedded log folder (dead letters too) can be re-encrypted' })
  const totals = { files: 0, records: 0, reencrypted: 0, current: 0 }
  for (const file of files) {
    const r = await reencryptFile(file, keys)
    totals.files++
    totals.records += r.records
    totals.reencrypted += r.reencrypted
    totals.current += r.current
  }
  return totals
}

/**
 * A value with every Sluice ciphertext in it (at any depth) under the current key of its purpose; `counts`
 * adds those renewed and those already current.
 * @example const fresh = renewCiphertexts(keys, letter.record, { reencrypted: 0, current: 0 })
 */
export function renewCiphertexts(keys: KeyProvider, value: unknown, counts: { reencrypted: number; current: number }, purposeOf = new Map<string, string>()): unknown {
  const renew = (v: unknown): unknown => {
    if (isCiphertext(v)) {
      const keyId = ciphertextKeyId(v)
      let purpose = purposeOf.get(keyId)
      if (purpose === undefined) {
        purpose = keys.byId(keyId).purpose
        purposeOf.set(keyId, purpose)
      }
      if (keys.current(purpose).id === keyId) {
        counts.current++
        return v
      }
      counts.reencrypted++
      return encryptValue(keys, purpose, decryptValue(keys, v))
    }
    if (Array.isArray(v)) return v.map(renew)
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renew(x)]))
    return v
  }
  return renew(value)
}

async function reencryptFile(file: string, keys: KeyProvider): Promise<{ records: number; reencrypted: number; current: number }> {
  const counts = { records: 0, reencrypted: 0, current: 0 }
  const purposeOf = new Map<string, string>()
  const renew = (value: unknown): unknown => renewCiphertexts(keys, value, counts, purposeOf)
  const tmp = `${file}.reencrypt.tmp`
  const out = await open(tmp, 'w')
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })
    let lineNo = 0
    for await (const line of lines) {
      lineNo++
      if (line.trim() === '') {
        await out.write('\n')
        continue
      }
      let record: unknown
      try {
        record = JSON.parse(line)
      } catch {
        throw userError('SLUICE_BAD_JSON', `${file}:${lineNo} is not valid JSON; nothing in this file was changed`)
      }
      counts.records++
      await out.write(`${JSON.stringify(renew(record))}\n`)
    }
    await out.sync()
    await out.close()
    await rename(tmp, file)
  } catch (e) {
    await out.close().catch(() => {})
    await rm(tmp, { force: true })
    throw e
  }
  return counts
}
