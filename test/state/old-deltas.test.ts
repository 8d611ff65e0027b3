import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mergeKeyed } from '../../src/checkpoint/incremental.ts'
import { redistributeKeyed } from '../../src/checkpoint/redistribute.ts'
import { decodeState } from '../../src/checkpoint/state-file.ts'
import type { KeyedSnapshot } from '../../src/core/operator.ts'
import { deltaScenarios, runDeltas } from './old-deltas.ts'

// Incremental chains (a base and its deltas) as earlier versions wrote them still merge and restore, and the
// restored operators continue exactly as they did then.
for (const s of deltaScenarios) {
  test(`an old incremental chain of ${s.name} restores and continues as before`, () => {
    const chain: KeyedSnapshot[] = []
    for (let i = 0; existsSync(new URL(`./fixtures/${s.name}.${i}.state`, import.meta.url)); i++) {
      chain.push(decodeState(readFileSync(new URL(`./fixtures/${s.name}.${i}.state`, import.meta.url))) as KeyedSnapshot)
    }
    assert.equal(chain.length, s.parts.length)
    const expected = JSON.parse(readFileSync(new URL(`./fixtures/${s.name}.expected.json`, import.meta.url), 'utf8')) as unknown
    const { output } = runDeltas(s, (h) => h.restoreFrom(redistributeKeyed([mergeKeyed(chain[0], chain.slice(1))], 1)[0]))
    assert.deepEqual(JSON.parse(JSON.stringify(output)), expected)
  })
}
