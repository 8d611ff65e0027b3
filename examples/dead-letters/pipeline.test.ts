// Runs the four commands of the README in order and checks what each left behind.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = fileURLToPath(new URL('out/', import.meta.url))
const readJsonl = (name: string): unknown[] => readFileSync(`${out}${name}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)

function sluice(...args: string[]): string {
  const r = spawnSync(process.execPath, ['bin/sluice.js', ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, `sluice ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

test('dead-letters: failures set aside, listed, redriven after the fix, and processed once', () => {
  rmSync(out, { recursive: true, force: true })
  const first = JSON.parse(sluice('run', 'examples/dead-letters/pipeline.ts', '--json').trim()) as { recordsIn: number; errors: number }
  assert.deepEqual([first.recordsIn, first.errors], [10, 4])
  assert.equal(readJsonl('celsius.jsonl').length, 7)

  assert.match(sluice('dlq', 'list', 'examples/dead-letters/out/log'), /readings\.dlq: 4 letters\n.*\n\s+source-jsonl-1\s+parse\s+1\n\s+to-celsius\s+user-function\s+3\n/)

  const redrive = ['dlq', 'redrive', 'examples/dead-letters/out/log', '--topic', 'readings.dlq', '--step', 'to-celsius', '--to', 'examples/dead-letters/out/redrive.jsonl']
  assert.match(sluice(...redrive), /^redrove 3 records/)
  assert.match(sluice(...redrive), /^redrove 0 records/, 'a second redrive finds nothing new')

  sluice('run', 'examples/dead-letters/pipeline.ts', '--param', 'input=redrive', '--param', 'fahrenheit=convert', '--quiet')
  assert.deepEqual(readJsonl('celsius-redriven.jsonl'), [
    { sensor: 's3', celsius: 21.5, ts: 1717228920000 },
    { sensor: 's3', celsius: 22, ts: 1717229100000 },
    { sensor: 's3', celsius: 22.5, ts: 1717229280000 },
  ])
})
