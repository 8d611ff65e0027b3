import type { Key, RootDatabase } from 'lmdb'
import { lazyRequire } from '../../core/lazy-require.ts'

const lmdb = lazyRequire<typeof import('lmdb')>(import.meta.url, 'lmdb')

/**
 * Opens the LMDB store in file `file` (created if missing) as the durable state and timer stores use it:
 * binary values, no fsync (the store is a working copy; checkpoints are what survive a crash).
 *
 * @example
 * const db = openStore(join(folder, 'state.mdb'))
 */
export function openStore(file: string): RootDatabase<Buffer, Key> {
  return lmdb().open<Buffer, Key>({ path: file, encoding: 'binary', noSync: true, noMemInit: true, compression: false })
}

/**
 * Empties `db`, unless it is empty already. Clearing an empty store is not harmless: LMDB (lmdb 3.5)
 * corrupts the free-page list of a store that is cleared twice with no write in between, and a later large
 * write transaction then fails with MDB_BAD_TXN or crashes the process. A store is cleared when it opens
 * and again when a restore starts, so a restored job would meet it.
 *
 * @example
 * clearStore(db) // before a restore loads entries
 */
export function clearStore(db: RootDatabase<Buffer, Key>): void {
  if (db.getKeysCount({ limit: 1 }) > 0) db.clearSync()
}
