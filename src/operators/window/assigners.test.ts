import { test } from 'node:test'
import { pipeline } from '../../api/pipeline.ts'
import { source } from '../../connectors/index.ts'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { window } from './assigners.ts'

const ts = fc.integer({ min: -1e13, max: 1e13 })

function assign(a: ReturnType<typeof window.tumbling>, t: number): [number, number][] {
  const out: number[] = []
  a.assign(t, out)
  const pairs: [number, number][] = []
  for (let i = 0; i < out.length; i += 2) pairs.push([out[i], out[i + 1]])
  return pairs
}

/** Non-negative remainder, to state alignment without relying on the code under test. */
const mod = (a: number, m: number) => ((a % m) + m) % m

test('tumbling: exactly one window, it contains ts, start aligned to size + offset', () => {
  fc.assert(
    fc.property(ts, fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: -1e9, max: 1e9 }), (t, size, offset) => {
      const ws = assign(window.tumbling({ size, offset }), t)
      assert.equal(ws.length, 1)
      const [start, end] = ws[0]
      assert.equal(end - start, size)
      assert.ok(start <= t && t < end, `${t} not in [${start}, ${end})`)
      assert.equal(mod(start - offset, size), 0)
    }),
    { numRuns: 2000 },
  )
})

test('tumbling: negative timestamps and the boundaries around zero', () => {
  const a = window.tumbling({ size: 10 })
  assert.deepEqual(assign(a, -1), [[-10, 0]])
  assert.deepEqual(assign(a, -10), [[-10, 0]])
  assert.deepEqual(assign(a, -11), [[-20, -10]])
  assert.deepEqual(assign(a, 0), [[0, 10]])
  assert.deepEqual(assign(a, 9), [[0, 10]])
  assert.deepEqual(assign(a, 10), [[10, 20]])
  // An offset shifts the boundaries: with '-2h', days run from 22:00 to 22:00 UTC.
  assert.deepEqual(assign(window.tumbling({ size: '1d', offset: '-2h' }), 0), [[-7_200_000, 79_200_000]])
  assert.deepEqual(assign(window.tumbling({ size: 10, offset: 3 }), 2), [[-7, 3]])
  assert.deepEqual(assign(window.tumbling({ size: 10, offset: 3 }), 3), [[3, 13]])
})

test('sliding: size/slide windows when divisible, each containing ts, starts aligned', () => {
  fc.assert(
    fc.property(ts, fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: -1e6, max: 1e6 }), (t, slide, k, offset) => {
      const size = slide * k
      const ws = assign(window.sliding({ size, slide, offset }), t)
      assert.equal(ws.length, k)
      const starts = new Set<number>()
      for (const [start, end] of ws) {
        assert.equal(end - start, size)
        assert.ok(start <= t && t < end)
        assert.equal(mod(start - offset, slide), 0)
        starts.add(start)
      }
      assert.equal(starts.size, k, 'windows are distinct')
    }),
    { numRuns: 2000 },
  )
})

test('sliding: when size is not a multiple of slide, every window containing ts and only those', () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 200 }), (t, slide, extra) => {
      const size = slide + extra
      const ws = assign(window.sliding({ size, slide }), t)
      // Reference: every aligned start s with s <= t < s + size.
      const expected: [number, number][] = []
      for (let s = t - mod(t, slide); s > t - size; s -= slide) expected.push([s, s + size])
      assert.deepEqual(ws, expected)
      assert.ok(ws.length === Math.floor(size / slide) || ws.length === Math.ceil(size / slide))
    }),
  )
})

/** Invalid options are reported by the step that uses the assigner, with its id. */
function refusedInStep(a: ReturnType<typeof window.tumbling>, code: string, message: RegExp): void {
  assert.equal(a.invalid?.code, code)
  const p = pipeline('invalid-window')
  const s = p.from(source.collection([{ k: 1, ts: 0 }], { eventTime: (r) => r.ts })).keyBy((r) => r.k)
  assert.throws(
    () => s.window(a).count(),
    (e: Error & { code?: string }) => e.code === code && message.test(e.message) && e.message.startsWith("step 'window-aggregate-1': "),
  )
}

test('sliding: slide above size is refused', () => {
  refusedInStep(window.sliding({ size: 10, slide: 20 }), 'SLUICE_BAD_OPTION', /must not exceed size/)
  refusedInStep(window.tumbling({ size: '10 minutes' }), 'SLUICE_BAD_DURATION', /window.tumbling size: invalid duration '10 minutes'/)
})

test('session: a record opens [ts, ts + gap) and the assigner merges', () => {
  fc.assert(
    fc.property(ts, fc.integer({ min: 1, max: 1e9 }), (t, gap) => {
      const a = window.session({ gap })
      assert.equal(a.merging, true)
      assert.deepEqual(assign(a as never, t), [[t, t + gap]])
    }),
  )
  assert.equal(window.tumbling({ size: 1 }).merging, false)
  refusedInStep(window.session({ gap: 0 }), 'SLUICE_BAD_DURATION', /greater than zero/)
})

test('global and count assigners: one window over all time', () => {
  assert.deepEqual(assign(window.global() as never, 5), [[-Infinity, Infinity]])
  assert.deepEqual(assign(window.count(3) as never, -5), [[-Infinity, Infinity]])
  assert.equal(window.count(3).defaultTrigger().kind, 'count')
  refusedInStep(window.count(0), 'SLUICE_BAD_OPTION', /positive integer/)
})
