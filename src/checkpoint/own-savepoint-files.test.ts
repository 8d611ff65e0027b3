import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { savepointStagingPrefix } from './object-savepoint.ts'
import { OwnSavepointFiles } from './own-savepoint-files.ts'

const target = `s3://bucket/savepoints/${process.pid}-${Date.now()}`
const prefix = savepointStagingPrefix(target)

test('a savepoint is staged in a fresh folder of this process; the folders of processes gone are removed, those of running ones kept', () => {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!
  const left = join(tmpdir(), `${prefix}${gone}-3.staging.tmp`)
  const running = join(tmpdir(), `${prefix}${process.ppid}-3.staging.tmp`)
  for (const d of [left, running]) {
    mkdirSync(d, { recursive: true })
    writeFileSync(join(d, 'step.1.0.state'), 'x')
  }
  const own = new OwnSavepointFiles()
  const folder = own.staging(target, 4)
  assert.equal(folder, join(tmpdir(), `${prefix}${process.pid}-4.staging.tmp`))
  assert.deepEqual(readdirSync(folder), [])
  assert.equal(existsSync(left), false, 'a killed worker\'s folder goes')
  assert.equal(existsSync(running), true, 'a running process\'s folder stays')
  own.clear()
  assert.equal(existsSync(folder), false)
  new OwnSavepointFiles().clear() // nothing staged: nothing to do
  rmSync(running, { recursive: true, force: true })
})

test('files of a savepoint this process did not stage come back with an error, and nothing is uploaded', async () => {
  const own = new OwnSavepointFiles({ endpoint: 'http://127.0.0.1:9' })
  own.staging(target, 5)
  const refs = await own.store(target, 6, [{ subtask: 1, file: 'step.1.0.state', bytes: 1, sha256: 'x' }])
  assert.match((refs[0] as { error?: string }).error ?? '', /savepoint 6 was not staged by this process/)
  const earlier = await own.store(target, 5, [{ subtask: 1, file: 'step.1.0.state', bytes: 1, sha256: 'x', checkpoint: 2 }])
  assert.equal((earlier[0] as { error?: string }).error, undefined, 'a file of an earlier checkpoint is not this savepoint\'s to upload')
  own.clear()
})
