import type { ByteSize } from './byte-size.ts'

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
  /** With 'durable': entries held decoded in the write-back cache of each step. */
  cacheEntries?: number
  /**
   * With 'heap': how much of the heap keyed state may take, per thread ('512MB', '2GB' or bytes). Past it the
   * job fails with SLUICE_STATE_MEMORY naming the step with the most state, before the process runs out of
   * memory. Default: 60% of the V8 heap limit (`node --max-old-space-size`).
   */
  memoryBudget?: ByteSize
}
