import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs'
import { dirname } from 'node:path'
import { SluiceError, userError } from '../../core/errors.ts'
import { open, seal } from './aes-gcm.ts'
import type { DataKey, KeyProvider } from './key-provider.ts'

const FORMAT = 1
const CHECK_TEXT = 'sluice-keyring'

interface StoredKey {
  id: string
  purpose: string
  createdAt: string
  /** The key wrapped (AES-256-GCM) under the master key, with `id|purpose` as authenticated data. */
  wrapped: string
}

interface KeyringFile {
  format: number
  /** A known text sealed under the master key: a wrong master key is told apart from a damaged file. */
  check: string
  current: Record<string, string>
  keys: StoredKey[]
}

/** What `list()` shows of a key: never its material. */
export interface KeyInfo {
  readonly id: string
  readonly purpose: string
  readonly createdAt: string
  readonly current: boolean
}

/**
 * Data keys kept in one JSON file, each wrapped under a master key that lives outside it (an environment
 * variable, see `masterKeyFrom`). Envelope encryption: data is encrypted with data keys, data keys with the
 * master key. Rotation adds a key and makes it current; retired keys stay to decrypt old data.
 * @example const keys = LocalKeyring.openOrCreate('secrets/keyring.json', masterKeyFrom()); keys.rotate('default')
 */
export class LocalKeyring implements KeyProvider {
  /**
   * The keyring file.
   * @example LocalKeyring.open('state/keys.json', masterKeyFrom()).path // 'state/keys.json'
   */
  readonly path: string
  private readonly master: Buffer
  private readonly file: KeyringFile
  private readonly unwrapped = new Map<string, DataKey>()

  private constructor(path: string, master: Buffer, file: KeyringFile) {
    this.path = path
    this.master = master
    this.file = file
  }

  /**
   * Opens the keyring at `path`, creating it when the file does not exist, with one key for each of the
   * purposes the transforms use by default: `default` (encrypt), `hash` and `vault` (tokenize).
   * @example const keys = LocalKeyring.openOrCreate('state/keys.json', masterKeyFrom())
   */
  static openOrCreate(path: string, master: Buffer): LocalKeyring {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      const file: KeyringFile = { format: FORMAT, check: seal(master, Buffer.from(CHECK_TEXT), 'check').toString('base64'), current: {}, keys: [] }
      const ring = new LocalKeyring(path, master, file)
      for (const purpose of ['default', 'hash', 'vault']) ring.rotate(purpose)
      return ring
    }
    return LocalKeyring.parse(path, master, text)
  }

  /**
   * Opens an existing keyring; a missing file is an error.
   * @example const keys = LocalKeyring.open('state/keys.json', masterKeyFrom())
   */
  static open(path: string, master: Buffer): LocalKeyring {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw userError('SLUICE_KEY_MISSING', `no keyring at '${path}'`, { hint: 'create one with `sluice keys create <file>`' })
      throw e
    }
    return LocalKeyring.parse(path, master, text)
  }

  private static parse(path: string, master: Buffer, text: string): LocalKeyring {
    let file: KeyringFile
    try {
      file = JSON.parse(text) as KeyringFile
    } catch {
      throw new SluiceError('SLUICE_KEYRING_CORRUPT', `keyring '${path}' is not valid JSON`)
    }
    if (file.format !== FORMAT || !Array.isArray(file.keys) || typeof file.check !== 'string' || typeof file.current !== 'object') {
      throw new SluiceError('SLUICE_KEYRING_CORRUPT', `keyring '${path}' is not a keyring of format ${FORMAT}`)
    }
    try {
      open(master, Buffer.from(file.check, 'base64'), 'check')
    } catch {
      throw userError('SLUICE_KEY_MISSING', `the master key does not open keyring '${path}'`, { hint: 'set the master key the keyring was created with' })
    }
    return new LocalKeyring(path, master, file)
  }

  /**
   * The key new data of `purpose` is protected with.
   * @example keys.current('hash').id
   */
  current(purpose = 'default'): DataKey {
    const id = this.file.current[purpose]
    if (id === undefined) throw userError('SLUICE_KEY_MISSING', `keyring '${this.path}' has no key for purpose '${purpose}'`, { hint: `add one with \`sluice keys rotate ${this.path} --purpose ${purpose}\`` })
    return this.byId(id)
  }

  /**
   * Any key this keyring ever issued, current or retired.
   * @example keys.byId('default-20260101-8f3a2c1d') // a retired key too: data protected before a rotation still opens
   */
  byId(id: string): DataKey {
    const cached = this.unwrapped.get(id)
    if (cached !== undefined) return cached
    const stored = this.file.keys.find((k) => k.id === id)
    if (stored === undefined) throw userError('SLUICE_KEY_MISSING', `key '${id}' is not in keyring '${this.path}'`, { hint: 'data protected with it cannot be read with this keyring' })
    let material: Buffer
    try {
      material = open(this.master, Buffer.from(stored.wrapped, 'base64'), `${stored.id}|${stored.purpose}`)
    } catch {
      throw new SluiceError('SLUICE_KEYRING_CORRUPT', `key '${id}' in keyring '${this.path}' fails its authentication`)
    }
    const key: DataKey = { id: stored.id, purpose: stored.purpose, material }
    this.unwrapped.set(id, key)
    return key
  }

  /**
   * Adds a new key for `purpose`, makes it current, and saves the file atomically. Returns its id.
   * @example const id = keys.rotate() // new data is encrypted with it; older data still decrypts
   */
  rotate(purpose = 'default', now: Date = new Date()): string {
    if (!/^[a-z][a-z0-9-]*$/.test(purpose)) throw userError('SLUICE_BAD_ARGUMENT', `key purpose '${purpose}' is invalid`, { hint: 'use lower-case letters, digits and dashes' })
    const id = `${purpose}-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`
    const material = randomBytes(32)
    this.file.keys.push({ id, purpose, createdAt: now.toISOString(), wrapped: seal(this.master, material, `${id}|${purpose}`).toString('base64') })
    this.file.current[purpose] = id
    this.unwrapped.set(id, { id, purpose, material })
    this.save()
    return id
  }

  /**
   * Every key's id, purpose, creation time and whether it is current.
   * @example keys.list().filter((k) => k.current)
   */
  list(): KeyInfo[] {
    return this.file.keys.map((k) => ({ id: k.id, purpose: k.purpose, createdAt: k.createdAt, current: this.file.current[k.purpose] === k.id }))
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true })
    const tmp = `${this.path}.tmp`
    writeFileSync(tmp, `${JSON.stringify(this.file, null, 2)}\n`, { mode: 0o600 })
    const fd = openSync(tmp, 'r')
    fsyncSync(fd)
    closeSync(fd)
    renameSync(tmp, this.path)
  }
}
