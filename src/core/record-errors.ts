import { SluiceError } from './errors.ts'
import { keyProblem } from './key-check.ts'

const KEY_RULE = 'a key is a string, a number (not NaN), a boolean, a bigint, null, or an array or plain object of those'

/**
 * The error for a record whose user function `fn` of step `step` returned `r` where a value is expected
 * (undefined from a map, a Promise anywhere). A returned Promise is settled quietly: its rejection (which may
 * quote the record) is never printed as an unhandled rejection.
 * @example throw badResult('scale', 'map', undefined) // SLUICE_BAD_RESULT: step 'scale': map returned undefined …
 */
export function badResult(step: string, fn: string, r: unknown): SluiceError {
  if (r instanceof Promise) {
    r.then(undefined, () => {})
    return new SluiceError('SLUICE_BAD_RESULT', `step '${step}': ${fn} returned a Promise; user functions run synchronously, so its value would be lost`, {
      step,
      hint: 'make the function synchronous (do asynchronous look-ups before the pipeline, or in a source or sink)',
    })
  }
  return new SluiceError('SLUICE_BAD_RESULT', `step '${step}': ${fn} returned ${r === null ? 'null' : 'undefined'} where a value is expected`, {
    step,
    hint: fn === 'flatMap' ? 'return an array (empty to drop the record)' : 'return a value for every record; use filter or flatMap to drop records',
  })
}

/** True for what a function must not return where a value is expected: undefined, or a Promise. */
export function isBadResult(r: unknown): boolean {
  return r === undefined || r instanceof Promise
}

/**
 * The error for a record whose key `k` (from the key function feeding step `step`) cannot be a key, or
 * undefined when it can. A Promise is settled quietly, as in `badResult`.
 * @example keyError('count', NaN) // SluiceError SLUICE_BAD_KEY: … returned NaN …
 */
export function keyError(step: string, k: unknown): SluiceError | undefined {
  const problem = keyProblem(k)
  if (problem === undefined) return undefined
  if (k instanceof Promise) k.then(undefined, () => {})
  return new SluiceError('SLUICE_BAD_KEY', `the key function feeding step '${step}' returned ${problem}; ${KEY_RULE}`, { step, hint: 'fix the key function, or give records without a usable key a default key' })
}

/**
 * The error for a record a sink of step `step` cannot encode (JSON.stringify threw on it): a BigInt, a value
 * nested too deeply, a cycle. The cause's message names only the type of the problem.
 * @example unwritable('out', new TypeError('Do not know how to serialize a BigInt'))
 */
export function unwritable(step: string, e: unknown): SluiceError {
  const why = e === undefined ? 'it is undefined, a function or a Symbol' : e instanceof RangeError ? 'it is nested too deeply' : e instanceof TypeError && /BigInt/i.test(e.message) ? 'it holds a BigInt' : e instanceof TypeError && /circular/i.test(e.message) ? 'it is cyclic' : 'encoding it threw'
  return new SluiceError('SLUICE_RECORD_UNWRITABLE', `sink '${step}' cannot write the record as JSON: ${why}`, {
    step,
    hint: 'turn such values into plain JSON before the sink (a BigInt into a string, deep nesting flattened), or give the sink an encode function',
  })
}

/**
 * The error for a record of step `step` that cannot be sent to step `to` on another thread: it is not plain data
 * (a function, or an object holding one), so it cannot be cloned. At parallelism 1 such a record fails where a
 * sink writes it.
 * @example unsendable('enrich', 'out') // SluiceError SLUICE_RECORD_UNWRITABLE: … cannot be sent to step 'out' …
 */
export function unsendable(step: string, to: string): SluiceError {
  return new SluiceError('SLUICE_RECORD_UNWRITABLE', `a record of step '${step}' cannot be sent to step '${to}' on another thread: it is not plain data (a function, or an object holding one)`, {
    step,
    hint: 'records between steps must be plain data at parallelism above 1: turn functions and class instances into plain values in this step',
  })
}

/** A record as plain JSON data for the error path (undefined when it has no JSON form), so that it can cross threads. */
export function plainCopy(v: unknown): unknown {
  try {
    const s = JSON.stringify(v)
    return s === undefined ? undefined : JSON.parse(s)
  } catch {
    return undefined
  }
}
