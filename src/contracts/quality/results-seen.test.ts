import assert from 'node:assert/strict'
import { test } from 'node:test'
import { forgetQualityResults, noteQualityResults, qualityResultsSince } from './results-seen.ts'
import type { QualityResult } from './window-checks.ts'

const r = (n: number) => ({ step: 's', expectation: `e${n}` }) as unknown as QualityResult

test('results since a cursor: each once, the latest when more than the limit came, the cursor survives forgetting old ones', () => {
  forgetQualityResults('p')
  assert.deepEqual(qualityResultsSince('p', 0, 10), { results: [], next: 0 })
  noteQualityResults('p', [r(1), r(2), r(3)])
  const a = qualityResultsSince('p', 0, 10)
  assert.deepEqual([a.results.map((x) => x.expectation), a.next], [['e1', 'e2', 'e3'], 3])
  assert.deepEqual(qualityResultsSince('p', a.next, 10).results, [])
  noteQualityResults('p', [r(4), r(5), r(6)])
  assert.deepEqual(qualityResultsSince('p', a.next, 2).results.map((x) => x.expectation), ['e5', 'e6'])
  forgetQualityResults('p')
})
