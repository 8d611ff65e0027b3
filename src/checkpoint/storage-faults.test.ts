import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SluiceError } from '../core/errors.ts'
import { errno, withFault } from './fs-faults.ts'
import { MANIFEST_FORMAT, type Manifest } from './manifest.ts'
import { CheckpointStorage, StagedFile } from './storage.ts'

// Faults a test machine cannot make for real (root ignores permissions; disks are not full): injected into fs.

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-faults-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const manifest = (id: number): Manifest => ({
  format: MANIFEST_FORMAT, kind: 'checkpoint', id, pipeline: 'p', createdAt: '2026-01-01T00:00:00.000Z', parallelism: 1, keyGroups: 128,
  sources: [], operators: [], sinks: [], vertices: [], metrics: [],
})

const isCode = (code: string, domain: string) => (e: unknown) => {
  assert.ok(e instanceof SluiceError, String(e))
  assert.equal(e.code, code)
  assert.equal(e.domain, domain)
  return true
}

test('a checkpoint folder that cannot be listed is an error, never "no checkpoints"; a missing one holds none', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await s.write(manifest(1), [])
    for (const code of ['EIO', 'EMFILE', 'EACCES']) {
      await assert.rejects(
        withFault('node:fs/promises', 'readdir', async () => Promise.reject(errno(code)), () => s.latest(() => {})),
        (e: unknown) => isCode('SLUICE_CHECKPOINT_UNLISTABLE', 'external')(e) && (e as Error).message.includes(code) && (e as Error).message.includes(dir),
      )
      await assert.rejects(withFault('node:fs/promises', 'readdir', async () => Promise.reject(errno(code)), () => s.retain(1)), isCode('SLUICE_CHECKPOINT_UNLISTABLE', 'external'))
    }
    assert.deepEqual(await new CheckpointStorage(join(dir, 'none')).latest(() => {}), { read: undefined, skipped: [] })
    assert.equal((await s.latest(() => {})).read?.manifest.id, 1)
  })
})

test('a manifest or state file that is there but cannot be read stops the start instead of being skipped', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await s.write(manifest(1), [])
    await assert.rejects(withFault('node:fs/promises', 'readFile', async () => Promise.reject(errno('EIO')), () => s.latest(() => {})), isCode('SLUICE_CHECKPOINT_IO', 'external'))
  })
})

test('a full disk while a state file is staged does not throw; the checkpoint fails when written, classified and retryable', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    const staging = s.openStaging(1)
    const out = new StagedFile()
    out.open(join(staging, 'a.state'))
    const f = await withFault('node:fs', 'writeSync', () => {
      throw errno('ENOSPC')
    }, async () => {
      out.write(new Uint8Array(10))
      out.write(new Uint8Array(10))
      return out.close()
    })
    assert.equal((f.error as NodeJS.ErrnoException).code, 'ENOSPC')
    await assert.rejects(s.write(manifest(1), [{ name: 'a.state', path: f.path, bytes: f.bytes, error: f.error }]), (e: unknown) => {
      isCode('SLUICE_CHECKPOINT_WRITE_FAILED', 'external')(e)
      assert.equal((e as SluiceError).retryable, true)
      assert.match((e as Error).message, /ENOSPC/)
      return true
    })
    assert.deepEqual(await s.ids(), [])
    // The next checkpoint goes through once there is space again.
    await s.write(manifest(2), [])
    assert.deepEqual(await s.ids(), [2])
  })
})

test('a full disk while the manifest or the staging folder is written is a failed checkpoint, and no partial folder is left', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await assert.rejects(
      withFault('node:fs/promises', 'open', async () => Promise.reject(errno('ENOSPC')), () => s.write(manifest(1), [{ name: 'x', data: new Uint8Array(3) }])),
      isCode('SLUICE_CHECKPOINT_WRITE_FAILED', 'external'),
    )
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('chk-')), [])
    const staging = await withFault('node:fs', 'mkdirSync', () => {
      throw errno('ENOSPC')
    }, async () => s.openStaging(2))
    assert.match(staging, /chk-00000002/)
    await assert.rejects(s.write(manifest(2), []), isCode('SLUICE_CHECKPOINT_WRITE_FAILED', 'external'))
    await s.write(manifest(3), [])
    assert.deepEqual(await s.ids(), [3])
  })
})
