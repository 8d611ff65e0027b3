import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MANIFEST_FORMAT, type Manifest, type StateFileRef } from './manifest.ts'
import { CheckpointStorage, readCheckpointFolder, referencedCheckpoints, sha256 } from './storage.ts'

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-storage-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const bytes = (s: string) => new TextEncoder().encode(s)
const ref = (file: string, data: Uint8Array, checkpoint?: number, delta = false): StateFileRef => ({
  subtask: 0,
  file,
  bytes: data.byteLength,
  sha256: sha256(data),
  ...(checkpoint === undefined ? {} : { checkpoint }),
  ...(delta ? { delta: true } : {}),
})

function manifest(id: number, files: StateFileRef[]): Manifest {
  return {
    format: MANIFEST_FORMAT,
    kind: 'checkpoint',
    id,
    pipeline: 'p',
    createdAt: '2026-01-01T00:00:00.000Z',
    parallelism: 1,
    keyGroups: 128,
    sources: [],
    operators: [{ step: 'join', kind: 'join', keyed: true, descriptor: {}, files }],
    sinks: [],
    vertices: [],
    metrics: [],
  }
}

/**
 * Writes a chain as the coordinator does: `kinds[i]` is 'full' or 'delta' for checkpoint i + 1; a delta lists
 * the files of its base and of every delta before it, in their folders.
 */
async function writeChain(s: CheckpointStorage, kinds: ('full' | 'delta')[]): Promise<void> {
  let chain: StateFileRef[] = []
  for (const [i, kind] of kinds.entries()) {
    const id = i + 1
    const data = bytes(`state of ${id}`)
    const own = ref(`join.0.0.${kind === 'full' ? 'state' : 'delta'}`, data, undefined, kind === 'delta')
    const files = kind === 'full' ? [own] : [...chain, own]
    await s.write(manifest(id, files), [{ name: own.file, data }])
    chain = files.map((f) => (f.checkpoint === undefined ? { ...f, checkpoint: id } : f))
  }
}

test('retention keeps the newest checkpoints and every earlier one their deltas build on', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await writeChain(s, ['full', 'delta', 'delta', 'full', 'delta'])
    await s.retain(3)
    assert.deepEqual(await s.ids(), [5, 4, 3, 2, 1], 'checkpoint 3 builds on 1 and 2')
    await s.retain(2)
    assert.deepEqual(await s.ids(), [5, 4], '5 builds on 4; nothing retained needs 1 to 3')
    await s.retain(1)
    assert.deepEqual(await s.ids(), [5, 4])
  })
})

test('a delta reads its base and earlier deltas from their folders, checksums verified', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await writeChain(s, ['full', 'delta', 'delta'])
    const r = await s.read(3)
    assert.deepEqual(referencedCheckpoints(r.manifest), [1, 2])
    const text = r.manifest.operators[0].files.map((f) => new TextDecoder().decode(r.file(f)))
    assert.deepEqual(text, ['state of 1', 'state of 2', 'state of 3'])
    const viaFolder = await readCheckpointFolder(join(dir, 'chk-00000003'))
    assert.equal(new TextDecoder().decode(viaFolder.file(viaFolder.manifest.operators[0].files[0])), 'state of 1')
  })
})

test('latest skips a delta whose base is missing or damaged, with a warning, and falls back to an older checkpoint', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await writeChain(s, ['full', 'delta', 'full', 'delta', 'delta'])
    // The base of 4 and 5 is damaged: 2 (whose base 1 is whole) is the newest that reads back.
    await writeFile(join(dir, 'chk-00000003', 'join.0.0.state'), 'bit rot')
    const warnings: string[] = []
    const got = await s.latest((m) => warnings.push(m))
    assert.equal(got.read?.manifest.id, 2)
    assert.deepEqual(got.skipped.map((x) => x.id), [5, 4, 3])
    assert.equal(warnings.length, 3)
    assert.match(warnings[0], /checkpoint 5 .*skipped.*join\.0\.0\.state.*chk-00000003.*checksum/)
    // Without its base folder, 2 is skipped too.
    await rm(join(dir, 'chk-00000001'), { recursive: true })
    warnings.length = 0
    const none = await s.latest((m) => warnings.push(m))
    assert.equal(none.read, undefined)
    assert.deepEqual(none.skipped.map((x) => x.id), [5, 4, 3, 2], 'every checkpoint is unreadable, which is not the same as none')
    assert.match(warnings[warnings.length - 2], /checkpoint 2 .*missing in .*chk-00000001.*checkpoint 2 builds on it/)
    assert.match(warnings[warnings.length - 1], /no checkpoint .* reads back whole: 4 skipped/)
    assert.ok((await readdir(dir)).includes('chk-00000002'))
  })
})

test('state files over the held size are checked as they are read, then read again in parts when asked for', async () => {
  await withDir(async (dir) => {
    const s = new CheckpointStorage(dir)
    await writeChain(s, ['full', 'delta'])
    const folder = join(dir, 'chk-00000002')
    const r = await readCheckpointFolder(folder, 0)
    const [base, delta] = r.manifest.operators[0].files
    assert.equal(new TextDecoder().decode(r.file(base)), 'state of 1')
    assert.equal(new TextDecoder().decode(r.range!(delta, 9, 1)), '2')
    assert.equal(new TextDecoder().decode(r.range!(base, 0, 5)), 'state')
    // Damage found when the folder is read, whether or not the file would be held.
    await writeFile(join(dir, 'chk-00000001', base.file), bytes('state of X'))
    await assert.rejects(readCheckpointFolder(folder, 0), /does not match its checksum/)
    await writeFile(join(dir, 'chk-00000001', base.file), bytes('state of 1 and more'))
    await assert.rejects(readCheckpointFolder(folder, 0), /does not match its checksum/)
    await rm(join(dir, 'chk-00000001', base.file))
    await assert.rejects(readCheckpointFolder(folder, 0), /missing in/)
  })
})
