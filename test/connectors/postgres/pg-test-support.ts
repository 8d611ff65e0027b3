// Helpers of the Postgres connector tests: a client on the test service and a schema of their own per test.
import pg from 'pg'
import { serviceOrSkip } from '../../support/services.ts'

export const pgService = serviceOrSkip('postgres')

export const pgUrl = (): string => String(pgService.info?.url)

/** Runs `sql` on a new connection and returns its rows. */
export async function sql(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: pgUrl() })
  await c.connect()
  try {
    return (await c.query(text, params)).rows as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

let n = 0
/** A fresh, empty Postgres schema for one test. */
export async function freshSchema(name: string): Promise<string> {
  const schema = `t_${name}_${process.pid}_${n++}`
  await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await sql(`CREATE SCHEMA ${schema}`)
  return schema
}
