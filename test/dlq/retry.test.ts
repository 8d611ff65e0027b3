import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PolicyErrorSink } from '../../src/runtime/error-sink.ts'
import { StepMetrics } from '../../src/core/metrics.ts'
import { SluiceError, TransientError, isTransient } from '../../src/core/errors.ts'
import { backoffDelay, resolveRetries } from '../../src/dlq/retry.ts'
import { pipeline, run, sink, source } from '../../src/index.ts'

function sinkWith(retries: Parameters<typeof resolveRetries>[1], policy: 'fail' | 'dead-letter' = 'dead-letter') {
  const waits: number[] = []
  const m = new StepMetrics('enrich', 'map')
  const s = new PolicyErrorSink(policy, () => m)
  s.configure({ pipeline: 'p', retries: resolveRetries('p', retries, (ms) => void waits.push(ms)), now: () => 42 })
  return { s, m, waits }
}

/** A function that throws `errors` in turn, then returns its argument doubled. */
function flaky(...errors: unknown[]) {
  let calls = 0
  const fn = (v: number) => {
    calls++
    if (errors.length > 0) throw errors.shift()
    return v * 2
  }
  return { fn, calls: () => calls }
}

test('which errors are transient', () => {
  assert.equal(isTransient(new TransientError('timeout')), true)
  assert.equal(isTransient(Object.assign(new Error('busy'), { transient: true })), true)
  assert.equal(isTransient(new SluiceError('SLUICE_SOURCE_FAILED', 'x', { retryable: true })), true)
  assert.equal(isTransient(new SluiceError('SLUICE_SOURCE_FAILED', 'x', { retryable: true, domain: 'internal' })), false)
  assert.equal(isTransient(new SluiceError('SLUICE_SOURCE_FAILED', 'x')), false)
  assert.equal(isTransient(new Error('bug')), false)
  assert.equal(isTransient('text'), false)
})

test('a transient failure is retried with exponential backoff and the result is returned', () => {
  const { s, m, waits } = sinkWith({ attempts: 3, backoff: '10ms', maxBackoff: '1s' })
  const f = flaky(new TransientError('t2'), new TransientError('t3'))
  // As at a call site: the first call failed with t1, then retry takes over.
  assert.equal(s.retry('enrich', new TransientError('t1'), f.fn, undefined, 5), 10)
  assert.deepEqual(waits, [10, 20, 40])
  assert.equal(f.calls(), 3)
  assert.equal(m.retries, 3)
})

test('backoff is capped at maxBackoff; after the last retry the error goes to the policy with the attempts', () => {
  const { s, m, waits } = sinkWith({ attempts: 4, backoff: '10ms', maxBackoff: '25ms' })
  const fn = () => {
    throw new TransientError('still down')
  }
  let last: unknown
  try {
    s.retry('enrich', new TransientError('down'), fn, undefined, 1)
  } catch (e) {
    last = e
  }
  assert.equal((last as Error).message, 'still down')
  assert.deepEqual(waits, [10, 20, 25, 25])
  s.report('enrich', last, { id: 1 }, 7, 'in:1')
  assert.equal(s.letters.length, 1)
  assert.equal(s.letters[0].attempts, 5)
  assert.equal(m.errors, 1)
  s.report('enrich', new Error('other'), { id: 2 }, 7, 'in:2')
  assert.equal(s.letters[1].attempts, 1, 'attempts do not leak into the next report')
})

test('non-transient errors, and a non-transient error during retries, are not retried further', () => {
  const { s, waits } = sinkWith({})
  const bug = new Error('bug')
  assert.throws(() => s.retry('enrich', bug, () => 1, undefined, 1), (e) => e === bug)
  assert.deepEqual(waits, [])
  const f = flaky(new Error('now a bug'))
  assert.throws(() => s.retry('enrich', new TransientError('t'), f.fn, undefined, 1), /now a bug/)
  assert.deepEqual(waits, [10])
})

test('retries: false and attempts 0 turn retrying off; bad options are user errors', () => {
  const { s, waits } = sinkWith(false)
  assert.throws(() => s.retry('enrich', new TransientError('t'), () => 1, undefined, 1), /t/)
  assert.deepEqual(waits, [])
  assert.equal(resolveRetries('p', { attempts: 0 }).attempts, 0)
  assert.throws(() => resolveRetries('p', { attempts: -1 }), /retries.attempts/)
  assert.throws(() => resolveRetries('p', { backoff: '2s', maxBackoff: '1s' }), /maxBackoff/)
  assert.throws(() => pipeline('p', { retries: { attempts: 1.5 } }), /retries.attempts/)
  const p = resolveRetries('p', { backoff: 100, maxBackoff: 1000 })
  assert.deepEqual([1, 2, 3, 4, 5].map((k) => backoffDelay(p, k)), [100, 200, 400, 800, 1000])
})

test('in a pipeline, map, filter and flatMap retry transient failures; the fail policy names the attempts', async () => {
  const fails = new Map<string, number>()
  const flakyOnce = (tag: string, v: number) => {
    const k = `${tag}${v}`
    if (v % 3 === 0 && (fails.get(k) ?? 0) < 2) {
      fails.set(k, (fails.get(k) ?? 0) + 1)
      throw new TransientError(`${k} timed out`)
    }
  }
  const out = sink.collect<number>()
  const p = pipeline('retrying', { retries: { attempts: 2, backoff: 0, maxBackoff: 0 } })
  p.from(source.collection([1, 2, 3, 4, 5, 6]))
    .map((v: number) => (flakyOnce('m', v), v))
    .id('m')
    .filter((v: number) => (flakyOnce('f', v), true))
    .flatMap(function* (v: number) {
      flakyOnce('g', v)
      yield v
      yield v * 10
    })
    .to(out)
  const s = await run(p)
  assert.deepEqual(out.values, [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60])
  assert.equal(s.steps.find((x) => x.step === 'm')?.retries, 4)
  assert.equal(s.errors, 0)

  const q = pipeline('retrying-fails', { retries: { attempts: 2, backoff: 0, maxBackoff: 0 } })
  q.from(source.collection([1])).map(() => {
    throw new TransientError('always down')
  }).to(sink.collect())
  await assert.rejects(run(q), /after 3 attempts: always down/)
})
