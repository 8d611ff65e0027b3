import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Batch } from '../../src/index.ts'
import { digestRows, ResultDigest, ResultTable } from '../../bench/nexmark/results.ts'

// The bench compares a query's results with DuckDB's by digest (count and a sum of row hashes), so that
// millions of rows need not be held: the digest of a changelog applied must be the digest of its final rows.

const columns = ['id', 'v']
const batch = (values: { id: number; v: number }[], kinds?: number[]): Batch<{ id: number; v: number }> => ({ values, times: values.map(() => 0), ...(kinds ? { kinds } : {}) }) as unknown as Batch<{ id: number; v: number }>

test('the digest of a changelog is the digest of the rows it leaves, with or without an identity', () => {
  const log = [
    batch([{ id: 1, v: 10 }, { id: 2, v: 20 }, { id: 1, v: 10 }]),
    // -U of a row, +U of its new value, -D of another
    batch([{ id: 1, v: 10 }, { id: 1, v: 11 }, { id: 2, v: 20 }], [1, 2, 3]),
  ]
  // Without an identity the row added twice stays once beside the update; with one, id 1 holds only the update.
  const left: [((r: { id: number }) => unknown) | undefined, { id: number; v: number }[]][] = [
    [undefined, [{ id: 1, v: 10 }, { id: 1, v: 11 }]],
    [(r) => r.id, [{ id: 1, v: 11 }]],
  ]
  for (const [identity, rows] of left) {
    const table = new ResultTable(identity)
    const digest = new ResultDigest(columns, identity)
    for (const b of log) {
      table.apply(b)
      digest.apply(b)
    }
    assert.deepEqual(table.rows(), rows)
    assert.equal(digest.value, digestRows(rows, columns))
  }
})

test('a digest does not depend on order, and tells different multisets apart', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i % 37, v: i }))
  const d = digestRows(rows, columns)
  assert.equal(digestRows([...rows].reverse(), columns), d)
  assert.match(d, /^1000 rows, [0-9a-f]{13}$/)
  assert.notEqual(digestRows([...rows.slice(1), { id: 0, v: 1 }], columns), d, 'one row changed')
  assert.notEqual(digestRows([...rows, rows[0]], columns), d, 'one row twice')
  assert.notEqual(digestRows(rows.slice(0, 500), columns), digestRows(rows.slice(500), columns))
  // Numbers are compared as DuckDB's are: to 12 significant digits, bigints as numbers.
  assert.equal(digestRows([{ id: 1, v: 0.1 + 0.2 }], columns), digestRows([{ id: 1, v: 0.3 }], columns))
  assert.equal(digestRows([{ id: 1n, v: 2 }], columns), digestRows([{ id: 1, v: 2 }], columns))
})
