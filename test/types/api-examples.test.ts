// Every `@example` of the API reference type-checks against the package (scripts/api-examples.ts): an example
// that names an option, a function or a field the package does not have fails here.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collectAll } from '../../scripts/api-reference.ts'
import { checkExamples, examplesPending } from '../../scripts/api-examples.ts'

const all = collectAll()
const { checked, problems } = checkExamples(all)

test('the examples were found and checked', () => {
  assert.ok(checked > 300, `only ${checked} examples found`)
})

for (const [entry] of all) {
  const pending = examplesPending.has(entry.specifier)
  test(`every example of '${entry.specifier}' type-checks`, pending ? { todo: `${entry.specifier} is being rewritten` } : {}, () => {
    const wrong = problems.filter((p) => p.entry === entry.specifier).map((p) => `${p.name}: ${p.errors.join('; ')}`)
    assert.deepEqual(wrong, [], 'fix these examples (node scripts/api-examples.ts shows them with their text)')
  })
}
