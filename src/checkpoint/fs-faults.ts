import { createRequire, syncBuiltinESMExports } from 'node:module'

const require = createRequire(import.meta.url)

/** An error as Node's fs raises it. */
export function errno(code: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected`)
  e.code = code
  return e
}

/**
 * For tests: replaces `name` of `node:fs` or `node:fs/promises` (named imports included) with `fake` while
 * `fn` runs, so a full disk or an unreadable folder can be injected where a real one cannot be made.
 * @example await withFault('node:fs/promises', 'readdir', async () => { throw errno('EIO') }, () => storage.ids())
 */
export async function withFault<T>(module: 'node:fs' | 'node:fs/promises', name: string, fake: (...args: never[]) => unknown, fn: () => Promise<T>): Promise<T> {
  const target = require(module) as Record<string, unknown>
  const original = target[name]
  target[name] = fake
  syncBuiltinESMExports()
  try {
    return await fn()
  } finally {
    target[name] = original
    syncBuiltinESMExports()
  }
}
