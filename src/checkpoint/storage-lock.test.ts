import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { CheckpointStorage } from './storage.ts'

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-lock-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const locked = (by: RegExp, dir: string) => (e: unknown) =>
  e instanceof SluiceError && e.code === 'SLUICE_CHECKPOINT_LOCKED' && by.test(e.message) && e.message.includes(dir)

test('one holder at a time: a second storage on the folder fails naming it; after release it can take it', async () => {
  await withDir(async (dir) => {
    const folder = join(dir, 'chk')
    const a = new CheckpointStorage(folder)
    await a.lock()
    await assert.rejects(new CheckpointStorage(folder).lock(), locked(/this process/, folder))
    await a.release()
    const b = new CheckpointStorage(folder)
    await b.lock()
    await b.release()
    assert.equal(existsSync(join(folder, 'LOCK')), false)
  })
})

test('a folder held by another live process is refused with its pid; a lock left by a dead process is taken over', async () => {
  await withDir(async (dir) => {
    // A child that takes the lock and waits: the lock file holds the child's pid.
    const script = `import { CheckpointStorage } from ${JSON.stringify(new URL('./storage.ts', import.meta.url).href)}
await new CheckpointStorage(process.argv[1]).lock(); process.stdout.write('held\\n'); setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => resolve())
        child.on('exit', () => reject(new Error('the child ended before taking the lock')))
      })
      await assert.rejects(new CheckpointStorage(dir).lock(), locked(new RegExp(`process ${child.pid}`), dir))
    } finally {
      child.kill('SIGKILL')
      await new Promise((r) => child.once('close', r))
    }
    // The child died without releasing: its lock is stale.
    const s = new CheckpointStorage(dir)
    await s.lock()
    await s.release()
    await writeFile(join(dir, 'LOCK'), '999999999\n')
    await s.lock()
    await s.release()
  })
})
