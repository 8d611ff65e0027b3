import { createRequire } from 'node:module'

/**
 * A package loaded on its first use rather than when the module that needs it is imported. The connectors'
 * client libraries (DuckDB, Kafka, Postgres, Redis, LMDB, the contract validators) take about 1 s of CPU to
 * load together, and every worker thread of a parallel run imports the whole engine: a pipeline pays only for
 * the ones it opens. For packages with a CommonJS entry (`require` of an ES module needs Node 22.12), and
 * whose classes a user's code does not check with `instanceof` (the copy `require` loads may not be the one
 * `import` does).
 *
 * @example
 * const kafkajs = lazyRequire<typeof import('kafkajs')>(import.meta.url, 'kafkajs')
 * const { Kafka } = kafkajs()
 */
export function lazyRequire<T>(from: string, specifier: string): () => T {
  let mod: T | undefined
  return () => (mod ??= createRequire(from)(specifier) as T)
}
