import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sluice } from '../cli/sluice.ts'

const pipelineFile = 'test/contracts/fixtures/bids-pipeline.ts'

test('sluice check --contracts registers a first version, accepts a compatible one, and refuses a breaking one with its differences', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-check-contracts-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const check = (...args: string[]) => sluice(['check', pipelineFile, '--contracts', '--registry', dir, ...args], { timeoutMs: 180_000 })

  const first = check('--param', 'schema=v1', '--register')
  assert.equal(first.code, 0, first.stderr)
  assert.match(first.stdout, /source-jsonl-1: contract 'bids' \(subject bids-value\): registered as version 1 \(schema id 1\)/)

  const again = check('--param', 'schema=v1')
  assert.match(again.stdout, /registered as version 1 \(schema id 1\)/)

  const v2 = check('--param', 'schema=v2')
  assert.equal(v2.code, 0, v2.stderr)
  assert.match(v2.stdout, /a new version, compatible under BACKWARD/)

  const breaking = check('--param', 'schema=breaking', '--register')
  assert.equal(breaking.code, 3)
  assert.match(breaking.stdout, /INCOMPATIBLE under BACKWARD:\n {2}- TYPE_MISMATCH at 'price': reading data of version 1: the writer's long cannot be read as string\n {2}- READER_FIELD_MISSING_DEFAULT_VALUE at 'channel'/)

  const usage = sluice(['check', pipelineFile, '--contracts'])
  assert.equal(usage.code, 2)
})
