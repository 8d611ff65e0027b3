import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { SluiceError } from '../core/errors.ts'

const FILE = 'catalog.sqlite'

/** Catalog entries as JSON documents in one SQLite file (WAL, synchronous=FULL), by kind and key. */
export class CatalogStore {
  readonly #db: DatabaseSync

  /** Whether `dir` holds a catalog (opening one that does not creates it). */
  static exists(dir: string): boolean {
    return existsSync(join(dir, FILE))
  }

  constructor(dir: string) {
    try {
      const path = dir === ':memory:' ? dir : join(dir, FILE)
      if (dir !== ':memory:') mkdirSync(dir, { recursive: true })
      // Loaded on first use, as the workflow store does: Node 22 warns when node:sqlite is loaded.
      const sqlite = createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite')
      this.#db = new sqlite.DatabaseSync(path)
      this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;
        CREATE TABLE IF NOT EXISTS entries (kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (kind, key));`)
    } catch (e) {
      throw new SluiceError('SLUICE_CATALOG_STORE', 'cannot open the catalog store', { domain: 'external', cause: e, hint: 'check that the folder is writable and that no other process holds it' })
    }
  }

  get<T>(kind: string, key: string): T | undefined {
    const row = this.#db.prepare('SELECT doc FROM entries WHERE kind = ? AND key = ?').get(kind, key) as { doc: string } | undefined
    return row === undefined ? undefined : (JSON.parse(row.doc) as T)
  }

  all<T>(kind: string): T[] {
    return (this.#db.prepare('SELECT doc FROM entries WHERE kind = ? ORDER BY key').all(kind) as { doc: string }[]).map((r) => JSON.parse(r.doc) as T)
  }

  /** Writes several entries in one transaction. */
  put(entries: readonly { kind: string; key: string; doc: unknown }[]): void {
    const ins = this.#db.prepare('INSERT INTO entries (kind, key, doc) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc')
    this.#db.exec('BEGIN IMMEDIATE')
    try {
      for (const e of entries) ins.run(e.kind, e.key, JSON.stringify(e.doc))
      this.#db.exec('COMMIT')
    } catch (e) {
      this.#db.exec('ROLLBACK')
      throw new SluiceError('SLUICE_CATALOG_STORE', 'cannot write to the catalog store', { domain: 'external', cause: e })
    }
  }

  close(): void {
    this.#db.close()
  }
}
