import { type ByteSize, parseByteSize } from './byte-size.ts'
import { userError } from './errors.ts'

/**
 * Where keyed state lives (the pipeline's `state` option, `run(p, { state })`, `sluice run --state`).
 *
 * @example
 * await run(p, { state: { backend: 'heap', memoryBudget: '512MB' } })
 */
export interface StateOptions {
  /**
   * 'heap' (default, fastest) or 'durable' (an embedded LMDB store with a write-back cache, for state larger
   * than memory).
   */
  backend?: 'heap' | 'durable'
  /** With 'durable': the stores' working folder (default a temporary one). */
  dir?: string
  /** With 'durable': entries held decoded in the write-back cache of each step, at most (default 100,000). */
  cacheEntries?: number
  /**
   * With 'durable': how many bytes of entries, counted as the store holds them, the write-back cache of each
   * step holds decoded, at most ('64MB' or bytes; default 1/64 of the V8 heap limit, 16 MB under a 1 GB heap).
   * Decoded entries take several times their stored size on the heap.
   */
  cacheBytes?: ByteSize
  /**
   * With 'heap': how much of the heap keyed state may take, per thread ('512MB', '2GB' or bytes). Past it the
   * job fails with SLUICE_STATE_MEMORY naming the step with the most state, before the process runs out of
   * memory. Default: 60% of the V8 heap limit (`node --max-old-space-size`).
   */
  memoryBudget?: ByteSize
}

/**
 * Checks the durable store's cache options of `state`, naming `where` (the option's place) in the error.
 *
 * @example checkCacheOptions({ cacheEntries: 0 }, 'state') // throws SLUICE_BAD_OPTION: state.cacheEntries must be ...
 */
export function checkCacheOptions(state: StateOptions, where: string): void {
  const n = state.cacheEntries
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw userError('SLUICE_BAD_OPTION', `${where}.cacheEntries must be a positive integer, got ${String(n)}`)
  if (state.cacheBytes !== undefined) parseByteSize(state.cacheBytes, `${where}.cacheBytes`)
}
