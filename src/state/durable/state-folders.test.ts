import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { removeStaleFolders, stateFolder } from './state-folders.ts'

/** The name of a new state folder of this process (made and removed). */
function stateFolderName(): string {
  const path = stateFolder()
  rmSync(path, { recursive: true, force: true })
  return basename(path)
}

test('folders of durable state left by processes that no longer run are removed; those of running processes, of another pid space and named otherwise stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-state-folders-'))
  // A pid that ran and exited, and one that runs.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!
  const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' })
  try {
    const space = /sluice-state-([A-Za-z0-9]+)-/.exec(stateFolderName())![1]
    const names = [
      `sluice-state-${space}-${dead}-aB3dE9`,
      `sluice-state-${space}-${running.pid}-xY7zQ1`,
      `sluice-state-${space}-${process.pid}-mine12`,
      `sluice-state-other${space}-${dead}-cD4eF5`,
      'sluice-state-Lq9w2e',
      'something-else',
    ]
    for (const n of names) {
      mkdirSync(join(dir, n))
      writeFileSync(join(dir, n, 'state.mdb'), 'x')
    }
    assert.deepEqual(removeStaleFolders(dir), [`sluice-state-${space}-${dead}-aB3dE9`])
    assert.deepEqual(readdirSync(dir).sort(), names.slice(1).sort())
    assert.deepEqual(removeStaleFolders(join(dir, 'missing')), [], 'a folder that is not there holds nothing to remove')
  } finally {
    running.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a new state folder is named for this process', () => {
  const path = stateFolder()
  try {
    assert.match(path, new RegExp(`sluice-state-[A-Za-z0-9]+-${process.pid}-[A-Za-z0-9]{6}$`))
    assert.ok(existsSync(path))
  } finally {
    rmSync(path, { recursive: true, force: true })
  }
})
