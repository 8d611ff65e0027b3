// Every export of the package is documented, the built-in sources, sinks, aggregates, windows, triggers
// and watermarks each with an example, and docs/api.md is what the documentation generates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { collectApi, renderMarkdown, undocumented } from '../../scripts/api-reference.ts'

const api = collectApi()

test('every exported member has TSDoc', () => {
  assert.ok(api.length > 40, 'the walk found the exports')
  assert.deepEqual(undocumented(api), [], 'add a TSDoc comment to each of these')
})

test('every member of source, sink, agg, window, trigger and watermark has an example', () => {
  const namespaces = api.filter((e) => e.kind === 'namespace')
  assert.deepEqual(namespaces.map((e) => e.name).sort(), ['agg', 'sink', 'source', 'trigger', 'watermark', 'window'])
  const missing = namespaces.flatMap((e) => e.members).filter((m) => m.examples.length === 0)
  assert.deepEqual(missing.map((m) => m.name), [], 'add an @example to each of these')
})

test('docs/api.md is up to date (npm run api-docs)', () => {
  assert.equal(readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8'), renderMarkdown(api))
})
