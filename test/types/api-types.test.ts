// Type-level tests: `npm test` typechecks this file, and every `@ts-expect-error` line must be an error,
// so a builder that lost its types fails the build. The runtime test only keeps the runner honest.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { agg, pipeline, sink, source, window, type WindowResult, type KeyedResult } from '../../src/index.ts'

interface Click {
  userId: string
  page: string
  ts: number
}

const clicks: Click[] = [{ userId: 'a', page: '/', ts: 0 }]
const p = pipeline('types')
const s = p.from(source.collection(clicks, { eventTime: (c) => c.ts }))

// @ts-expect-error a field the record does not have
s.map((c) => c.user)
// @ts-expect-error eventTime must return a number
source.collection(clicks, { eventTime: (c) => c.page })

const pages = s.map((c) => ({ page: c.page, at: c.ts }))
// @ts-expect-error `userId` was dropped by the map above
pages.filter((x) => x.userId === 'a')

const counts = s.keyBy((c) => c.page).window(window.tumbling({ size: '1m' })).aggregate(agg.count())
const typedCounts: typeof counts extends { map: (f: (v: WindowResult<string, number>) => unknown) => unknown } ? true : false = true
// @ts-expect-error the key is a string, not a number
counts.map((r): number => r.key)

const totals = s.keyBy((c) => c.userId).aggregate(agg.fields({ n: agg.count(), last: agg.max((c: Click) => c.ts) }))
totals.map((r: KeyedResult<string, { n: number; last: number | null }>) => r.value.n)
// @ts-expect-error the aggregate has no field `sum`
totals.map((r) => r.value.sum)

// @ts-expect-error a sink of numbers cannot take clicks
s.to(sink.collect<number>())

// @ts-expect-error keys must be primitives or tuples of primitives
s.keyBy((c) => ({ u: c.userId }))

test('the typed builder compiles the valid parts', () => {
  assert.equal(typedCounts, true)
  assert.ok(p.nodes.length > 3)
})
