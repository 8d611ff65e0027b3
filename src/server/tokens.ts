import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { isRole, type Role } from './roles.ts'

/** A stored token: only its SHA-256 is kept, with an id to name it in the audit log. */
export interface TokenEntry {
  id: string
  role: Role
  sha256: string
  created: number
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

function parseEntries(text: string): TokenEntry[] {
  const parsed: unknown = JSON.parse(text)
  if (!Array.isArray(parsed)) throw new Error('not a list')
  return parsed.filter((e): e is TokenEntry => typeof e === 'object' && e !== null && isRole((e as TokenEntry).role) && typeof (e as TokenEntry).sha256 === 'string')
}

function stamp(file: string): string {
  try {
    const s = statSync(file)
    return `${s.mtimeMs}:${s.size}:${s.ino}`
  } catch {
    return 'none'
  }
}

/**
 * The control plane's tokens, kept hashed in `<dir>/tokens.json`; a token is shown once, when created. A
 * change of the file (a token made with `sluice token create` while the server runs) is read on the next call.
 * @example
 * const store = await TokenStore.open('state/server')
 * const { token } = await store.create('operator')
 * store.verify(token)?.role // 'operator'
 */
export class TokenStore {
  readonly file: string
  private entries: TokenEntry[]
  /** Modification time and size of the file as last read: a change (e.g. `sluice token create`) reloads it. */
  private seen: string

  private constructor(file: string, entries: TokenEntry[]) {
    this.file = file
    this.entries = entries
    this.seen = stamp(file)
  }

  static async open(dir: string): Promise<TokenStore> {
    await mkdir(dir, { recursive: true })
    const file = join(dir, 'tokens.json')
    let entries: TokenEntry[] = []
    try {
      entries = parseEntries(await readFile(file, 'utf8'))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SluiceError('SLUICE_SERVER_TOKENS', `the token file cannot be read: ${(e as Error).message}`, { hint: 'create tokens again with sluice token create --role ...' })
      }
    }
    return new TokenStore(file, entries)
  }

  /** Creates a token with `role`; the token itself is returned once and stored only as a hash. */
  async create(role: Role): Promise<{ id: string; token: string; role: Role }> {
    const id = randomBytes(4).toString('hex')
    const token = `slc_${id}_${randomBytes(24).toString('base64url')}`
    this.reload()
    this.entries.push({ id, role, sha256: hash(token), created: Date.now() })
    await this.save()
    return { id, token, role }
  }

  /**
   * Revokes the token `id`: it is refused (401) from the next call on. False when no token has that id; the
   * last admin token cannot be revoked (SLUICE_BAD_ARGUMENT), so that someone can still manage tokens.
   */
  async revoke(id: string): Promise<boolean> {
    this.reload()
    const entry = this.entries.find((e) => e.id === id)
    if (entry === undefined) return false
    if (entry.role === 'admin' && this.entries.filter((e) => e.role === 'admin').length === 1) {
      throw new SluiceError('SLUICE_BAD_ARGUMENT', `token ${id} is the last admin token`, { domain: 'user', hint: 'create another admin token first (sluice token create --role admin)' })
    }
    this.entries = this.entries.filter((e) => e !== entry)
    await this.save()
    return true
  }

  private async save(): Promise<void> {
    const tmp = `${this.file}.tmp`
    await writeFile(tmp, JSON.stringify(this.entries, null, 2) + '\n', { mode: 0o600 })
    await rename(tmp, this.file)
    this.seen = stamp(this.file)
  }

  /** The entry of `token`, or undefined for an unknown one. */
  verify(token: string): TokenEntry | undefined {
    this.reload()
    const h = Buffer.from(hash(token), 'hex')
    return this.entries.find((e) => timingSafeEqual(Buffer.from(e.sha256, 'hex'), h))
  }

  /** Reads the file again when it changed since it was last read; an unreadable file keeps the tokens known. */
  private reload(): void {
    const now = stamp(this.file)
    if (now === this.seen) return
    this.seen = now
    try {
      this.entries = parseEntries(readFileSync(this.file, 'utf8'))
    } catch {
      // A file being replaced or damaged: keep the tokens known rather than lock everyone out.
    }
  }

  list(): readonly Omit<TokenEntry, 'sha256'>[] {
    this.reload()
    return this.entries.map(({ id, role, created }) => ({ id, role, created }))
  }
}
