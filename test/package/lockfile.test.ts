// npm install on a fresh clone leaves package-lock.json as committed: the lock lists every platform's
// optional binaries (npm adds the missing ones of other platforms, rewriting the file, when it does not).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'

interface Locked {
  version?: string
  optionalDependencies?: Record<string, string>
}

const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { lockfileVersion: number; packages: Record<string, Locked> }

/** Where npm would find `name` from the package at `path`: its own node_modules, then each parent's. */
function resolves(path: string, name: string): boolean {
  let at = path
  for (;;) {
    if (lock.packages[`${at === '' ? '' : `${at}/`}node_modules/${name}`] !== undefined) return true
    if (at === '') return false
    const i = at.lastIndexOf('/node_modules/')
    at = i < 0 ? '' : at.slice(0, i)
  }
}

test('every optional dependency of every locked package is in the lock, whatever the platform it is for', () => {
  assert.ok(lock.lockfileVersion >= 2)
  const missing: string[] = []
  for (const [path, pkg] of Object.entries(lock.packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) if (!resolves(path, name)) missing.push(`${path === '' ? '(root)' : path} -> ${name}`)
  }
  assert.deepEqual(missing, [], 'run npm install with --os/--cpu of the missing platforms, or delete the lock and npm install, so every platform is listed')
})
