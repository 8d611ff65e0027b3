// Every export of the package's entry points is documented with an example (functions, classes and their
// methods and properties, interfaces, types, and the members of source, sink, agg, window, trigger and the
// other namespace objects), and docs/api*.md are what the documentation generates.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { collectAll, renderPages, undocumented, type ApiEntry } from '../../scripts/api-reference.ts'
import { examplesPending } from '../../scripts/api-examples.ts'

const all = collectAll()
const api = [...all].find(([e]) => e.specifier === 'sluice')![1]

/** Every export of an entry point and every member of one, whatever its kind, that has no example. */
function withoutExample(entries: ApiEntry[]): string[] {
  return entries.flatMap((e) => [e, ...e.members]).filter((x) => x.examples.length === 0).map((x) => `${x.kind} ${x.name}`)
}

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

test('source, sink, agg, window, trigger and the other objects of functions are walked member by member', () => {
  const namespaces = api.filter((e) => e.kind === 'namespace')
  assert.deepEqual(namespaces.map((e) => e.name).sort(), ['agg', 'expect', 'lookup', 'privacy', 'sink', 'source', 'trigger', 'watermark', 'window'])
  for (const n of namespaces) assert.ok(n.members.length > 0, `${n.name} has members`)
  assert.ok(api.find((e) => e.name === 'source')!.members.some((m) => m.name === 'source.csv'))
})

// One test per entry point, over whatever it exports: a new export without an example fails here.
for (const [entry, entries] of all) {
  const pending = examplesPending.has(entry.specifier)
  test(`every export of '${entry.specifier}' and every member of one has an example`, pending ? { todo: `${entry.specifier} is being rewritten` } : {}, () => {
    assert.ok(entries.length > 0, `the walk found the exports of ${entry.specifier}`)
    assert.deepEqual(withoutExample(entries), [], `add an @example to each of these (${entry.file})`)
  })
}

test('docs/api.md and the pages of the other entry points are up to date (npm run api-docs)', () => {
  for (const [page, text] of renderPages(all)) assert.equal(readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8'), text, `${page} is stale`)
})
