// Every export of the package's entry points is documented, the built-in sources, sinks, aggregates, windows,
// triggers and watermarks each with an example, and docs/api*.md are what the documentation generates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { collectAll, renderPages, undocumented } from '../../scripts/api-reference.ts'

const all = collectAll()
const api = [...all].find(([e]) => e.specifier === 'sluice')![1]

test('every exported member has TSDoc', () => {
  assert.ok(api.length > 40, 'the walk found the exports')
  assert.deepEqual(undocumented(api), [], 'add a TSDoc comment to each of these')
})

test("every exported member of the package's other entry points (sluice/testing, sluice/workflow, sluice/cli) has TSDoc", () => {
  const others = [...all].filter(([e]) => e.specifier !== 'sluice')
  assert.deepEqual(others.map(([e]) => e.specifier).sort(), ['sluice/cli', 'sluice/testing', 'sluice/workflow'])
  for (const [e, entries] of others) {
    assert.ok(entries.length > 0, `the walk found the exports of ${e.specifier}`)
    assert.deepEqual(undocumented(entries), [], `add a TSDoc comment to each of these (${e.specifier})`)
  }
})

test('every member of source, sink, agg, window, trigger and watermark has an example', () => {
  const namespaces = api.filter((e) => e.kind === 'namespace')
  assert.deepEqual(namespaces.map((e) => e.name).sort(), ['agg', 'sink', 'source', 'trigger', 'watermark', 'window'])
  const missing = namespaces.flatMap((e) => e.members).filter((m) => m.examples.length === 0)
  assert.deepEqual(missing.map((m) => m.name), [], 'add an @example to each of these')
})

test("every function, class and method that 'sluice' exports has an example (interfaces, types and properties need none)", () => {
  const callable = new Set(['function', 'class', 'method'])
  const missing = api.flatMap((e) => [e, ...e.members]).filter((x) => callable.has(x.kind) && x.examples.length === 0)
  assert.deepEqual(missing.map((m) => m.name), [], 'add an @example to each of these')
})

test('docs/api.md and the pages of the other entry points are up to date (npm run api-docs)', () => {
  for (const [page, text] of renderPages(all)) assert.equal(readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8'), text, `${page} is stale`)
})
