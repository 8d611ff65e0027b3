import type pg from 'pg'
import { INSERT } from '../../../core/batch.ts'
import { ident } from '../../sql/staged-table.ts'
import { normalize, type CdcChange } from './changes.ts'
import { lazyRequire } from '../../../core/lazy-require.ts'

const pgLib = lazyRequire<typeof pg>(import.meta.url, 'pg')

/** A table name as the source takes it ('orders' or 'shop.orders'), quoted, with its `schema.name` label. */
export function tableName(t: string): { sql: string; label: string } {
  const [schema, name] = t.includes('.') ? t.split('.', 2) : ['public', t]
  return { sql: `${ident(schema)}.${ident(name)}`, label: `${schema}.${name}` }
}

/**
 * The initial snapshot: every row of the tables as of the replication slot's consistent point, read in
 * `REPEATABLE READ` under the snapshot the slot exported, through one cursor per table.
 */
export class SnapshotReader {
  private readonly client: pg.Client
  private readonly tables: { sql: string; label: string }[]
  private current = 0
  private opened = false
  /** Bytes of the data rows the server sent (their protocol messages), for the source's bytesIn. */
  bytes = 0

  constructor(url: string, tables: readonly string[]) {
    this.client = new (pgLib().Client)({ connectionString: url })
    this.client.on('error', () => undefined) // surfaces on the next query
    const wire = (this.client as unknown as { connection?: { on(event: 'dataRow', fn: (m: { length: number }) => void): void } }).connection
    wire?.on('dataRow', (m) => (this.bytes += m.length))
    this.tables = tables.map(tableName)
  }

  async begin(snapshotName: string): Promise<void> {
    await this.client.connect()
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    await this.client.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replaceAll("'", "''")}'`)
    this.opened = true
  }

  /** Up to `max` rows as inserts, or undefined once every table is read (the transaction is then closed). */
  async next(max: number): Promise<{ kind: typeof INSERT; change: CdcChange }[] | undefined> {
    while (this.current < this.tables.length) {
      const t = this.tables[this.current]
      const cursor = `sluice_snapshot_${this.current}`
      if (this.opened) {
        await this.client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM ${t.sql}`)
        this.opened = false
      }
      const r = await this.client.query(`FETCH ${max} FROM ${cursor}`)
      if (r.rows.length > 0) {
        const columns = r.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }))
        return r.rows.map((row: Record<string, unknown>) => ({ kind: INSERT, change: { table: t.label, row: normalize(row, columns) } }))
      }
      await this.client.query(`CLOSE ${cursor}`)
      this.current++
      this.opened = true
    }
    await this.close()
    return undefined
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined)
  }
}
