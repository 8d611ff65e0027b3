import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyChunks, copyValue, escapeText } from './copy-text.ts'
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
})

test('a staging table name longer than the database keeps is shortened with a hash of the sink id', () => {
  assert.equal(stagingName('p/sink-1/0', 63), '_sluice_staging_p_sink_1_0')
  const long = stagingName(`${'x'.repeat(80)}/sink-1/0`, 63)
  assert.equal(long.length, 63)
  assert.notEqual(long, stagingName(`${'x'.repeat(80)}/sink-1/1`, 63))
})
