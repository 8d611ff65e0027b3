import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyChunks, copyValue, escapeText } from './copy-text.ts'
import { copyBinaryChunks } from './copy-binary.ts'
import { stagingName } from '../sql/staged-table.ts'

test('COPY text escapes backslashes, tabs and line breaks, and writes null as \\N', () => {
  assert.equal(escapeText('plain'), 'plain')
  assert.equal(escapeText('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re')
  assert.equal(copyValue('string', null), '\\N')
  assert.equal(copyValue('boolean', false), 'f')
  assert.equal(copyValue('int64', 12n), '12')
  assert.equal(copyValue('timestamp', 0), '1970-01-01T00:00:00.000Z')
  assert.equal(copyValue('json', { a: '\n', b: 1n }), '{"a":"\\\\n","b":"1"}')
})

test('staged rows carry key, kind and order after the data columns; target rows only the data', () => {
  const rows = { columns: [{ name: 'n', type: 'int64' as const, data: [1, null] }, { name: 's', type: 'string' as const, data: ['x', 'y\tz'] }], ops: ['+I', '-D'], keys: undefined, firstSeq: 7 }
  assert.equal(Buffer.concat([...copyChunks(rows, true)]).toString(), '1\tx\t\\N\t+I\t7\t\\N\n\\N\ty\\tz\t\\N\t-D\t8\t\\N\n')
  assert.equal(Buffer.concat([...copyChunks(rows, false)]).toString(), '1\tx\n\\N\ty\\tz\n')
  // Append-only: of the staging table's own columns, the order alone.
  assert.equal(Buffer.concat([...copyChunks({ ...rows, ops: ['+I', '+I'], appendOnly: true }, true)]).toString(), '1\tx\t7\n\\N\ty\\tz\t8\n')
})

test('COPY binary of append-only staged rows: the data columns and the order, nothing else', () => {
  const rows = { columns: [{ name: 'n', type: 'int64' as const, data: [5] }], ops: ['+I'], keys: undefined, firstSeq: 3, appendOnly: true }
  const bytes = Buffer.concat([...copyBinaryChunks(rows, true)])
  const row = bytes.subarray(19, bytes.length - 2)
  assert.equal(row.readInt16BE(0), 2, 'two fields')
  assert.deepEqual([row.readInt32BE(2), row.readInt32BE(10), row.readInt32BE(14), row.readInt32BE(22)], [8, 5, 8, 3])
  assert.equal(row.length, 2 + 12 + 12)
})

test('a staging table name longer than the database keeps is shortened with a hash of the sink id', () => {
  assert.equal(stagingName('p/sink-1/0', 63), '_sluice_staging_p_sink_1_0')
  const long = stagingName(`${'x'.repeat(80)}/sink-1/0`, 63)
  assert.equal(long.length, 63)
  assert.notEqual(long, stagingName(`${'x'.repeat(80)}/sink-1/1`, 63))
})
