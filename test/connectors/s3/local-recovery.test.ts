import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteKeys, listKeys, s3Client } from '../../../src/checkpoint/object-store.ts'
import { ObjectCheckpointStorage } from '../../../src/checkpoint/object-storage.ts'
import { OwnStateFiles } from '../../../src/checkpoint/own-state-files.ts'
import { sha256 } from '../../../src/checkpoint/storage.ts'
import type { Manifest, StateFileRef } from '../../../src/checkpoint/manifest.ts'
import { serviceOrSkip } from '../../support/services.ts'

// Local recovery: a checkpoint in a bucket leaves a copy of its state files on the machine that wrote it; a
// restart there reads only the manifest from the bucket, and any file whose copy is damaged or gone from it.

const s3 = serviceOrSkip('s3')

function conn() {
  const i = s3.info!
  return { bucket: String(i.bucket), endpoint: String(i.endpoint), accessKeyId: String(i.accessKeyId), secretAccessKey: String(i.secretAccessKey), region: String(i.region) }
}

/** A storage whose client counts the objects it reads (GetObject requests). */
function counted(url: string, local: string | false) {
  const client = s3Client(conn())
  const gets: string[] = []
  const send = client.send.bind(client)
  client.send = ((cmd: { constructor: { name: string }; input: { Key?: string } }, ...rest: unknown[]) => {
    if (cmd.constructor.name === 'GetObjectCommand') gets.push(cmd.input.Key!.split('/').slice(-2).join('/'))
    return (send as (...a: unknown[]) => unknown)(cmd, ...rest)
  }) as typeof client.send
  return { storage: new ObjectCheckpointStorage(url, { client }, local), gets }
}

/**
 * Checkpoint `id` written as the runtime writes it: files staged (encoded) first, then `write`; `stored` are
 * files another process uploaded itself, listed in the manifest only.
 */
async function checkpoint(storage: ObjectCheckpointStorage, id: number, files: Record<string, Buffer>, earlier: Manifest['operators'][0]['files'] = [], stored: StateFileRef[] = []): Promise<Manifest> {
  const staging = storage.openStaging(id)
  const refs = Object.entries(files).map(([name, data]) => {
    writeFileSync(join(staging, name), data)
    return { subtask: 0, file: name, bytes: data.byteLength, sha256: sha256(data), ...(earlier.length > 0 ? { delta: true } : {}) }
  })
  const m = { format: 2, kind: 'checkpoint', id, pipeline: 'p', createdAt: new Date(0).toISOString(), parallelism: 1, keyGroups: 8, sources: [], sinks: [], vertices: [], metrics: [], operators: [{ step: 'join-1', kind: 'join', keyed: true, descriptor: {}, files: [...earlier, ...refs, ...stored] }] } as Manifest
  await storage.write(m, Object.keys(files).map((name) => ({ name, path: join(staging, name), bytes: files[name].byteLength })))
  return m
}

test('a restart on the same machine reads state files from its local copy, not the bucket; a damaged or missing copy is read from the bucket', { skip: s3.skip }, async () => {
  const c = conn()
  const prefix = `local-${randomUUID()}`
  const url = `s3://${c.bucket}/${prefix}`
  const local = mkdtempSync(join(tmpdir(), 'sluice-local-'))
  const base = Buffer.alloc(200_000, 7)
  const delta = Buffer.from('the rows added since')
  try {
    const writer = counted(url, local)
    const m1 = await checkpoint(writer.storage, 1, { 'join-1.0.0.state': base })
    await checkpoint(writer.storage, 2, { 'join-1.0.0.delta': delta }, m1.operators[0].files.map((f) => ({ ...f, checkpoint: 1 })))
    await writer.storage.retain(3)
    await writer.storage.release()
    assert.deepEqual(readdirSync(local).sort(), ['chk-00000001', 'chk-00000002'])

    // The restart: only the manifest comes from the bucket.
    const again = counted(url, local)
    const read = (await again.storage.latest(() => {})).read!
    assert.equal(read.manifest.id, 2)
    assert.deepEqual(again.gets, ['chk-00000002/manifest.json'])
    assert.deepEqual(again.storage.lastRead, { localFiles: 2, localBytes: base.byteLength + delta.byteLength, remoteFiles: 0, remoteBytes: 0 })
    assert.deepEqual(Buffer.from(read.file({ file: 'join-1.0.0.state', checkpoint: 1 })), base)
    assert.deepEqual(Buffer.from(read.file({ file: 'join-1.0.0.delta' })), delta)
    await again.storage.release()

    // A damaged copy (a flipped byte) fails its checksum: that file comes from the bucket, the other stays local.
    const copy = join(local, 'chk-00000001', 'join-1.0.0.state')
    const flipped = readFileSync(copy)
    flipped[1000] ^= 1
    writeFileSync(copy, flipped)
    const damaged = counted(url, local)
    const read2 = await damaged.storage.read(2)
    assert.deepEqual(damaged.gets.sort(), ['chk-00000001/join-1.0.0.state', 'chk-00000002/manifest.json'])
    assert.deepEqual(Buffer.from(read2.file({ file: 'join-1.0.0.state', checkpoint: 1 })), base)
    assert.equal(damaged.storage.lastRead.remoteFiles, 1)
    assert.equal(damaged.storage.lastRead.localFiles, 1)
    await damaged.storage.release()

    // Another machine (no local copies): everything from the bucket.
    const elsewhere = counted(url, mkdtempSync(join(tmpdir(), 'sluice-local-')))
    await elsewhere.storage.read(2)
    assert.equal(elsewhere.gets.length, 3)
    assert.equal(elsewhere.storage.lastRead.remoteFiles, 2)
    rmSync(elsewhere.storage.local!, { recursive: true, force: true })
    await elsewhere.storage.release()

    // Retention removes local copies with their checkpoints.
    const later = counted(url, local)
    await checkpoint(later.storage, 3, { 'join-1.0.0.state': delta })
    await later.storage.retain(1)
    assert.deepEqual(readdirSync(local), ['chk-00000003'])
    assert.ok(!existsSync(join(local, 'chk-00000001')))
    await later.storage.release()
  } finally {
    rmSync(local, { recursive: true, force: true })
    const client = s3Client(c)
    await deleteKeys(client, c.bucket, await listKeys(client, c.bucket, `${prefix}/`)).finally(() => client.destroy())
  }
})

test('two machines: files a process stores itself are in the bucket and its copies before the manifest; a restore on either machine reads its own from its copies; each machine drops copies retention drops', { skip: s3.skip }, async () => {
  const c = conn()
  const prefix = `machines-${randomUUID()}`
  const url = `s3://${c.bucket}/${prefix}`
  const here = mkdtempSync(join(tmpdir(), 'sluice-local-'))
  const there = mkdtempSync(join(tmpdir(), 'sluice-local-'))
  const mine = Buffer.alloc(100_000, 1)
  const theirs = Buffer.alloc(50_000, 2)
  try {
    const coordinator = counted(url, here)
    const other = counted(url, there)
    const own = new OwnStateFiles(other.storage)
    // What a thread on the other machine does at a barrier: stage into its own folder, then store.
    const store = async (id: number, name: string, data: Buffer | undefined): Promise<StateFileRef[]> => {
      const folder = own.staging(id)
      assert.ok(folder.startsWith(there), folder)
      if (data !== undefined) writeFileSync(join(folder, name), data)
      return own.store(id, [{ subtask: 1, file: name, bytes: data?.byteLength ?? 1, sha256: sha256(data ?? Buffer.alloc(0)) }])
    }
    for (const id of [1, 2, 3]) {
      const stored = await store(id, 'join-1.1.0.state', theirs)
      assert.equal((stored[0] as { error?: string }).error, undefined)
      // In the bucket and kept on its machine before the coordinator writes the manifest.
      assert.ok(existsSync(join(there, `chk-0000000${id}`, 'join-1.1.0.state')))
      await checkpoint(coordinator.storage, id, { 'join-1.0.0.state': mine }, [], stored)
    }
    assert.deepEqual(readdirSync(join(here, 'chk-00000003')), ['join-1.0.0.state'])

    // A restore on either machine: its own file from its copy, the other's from the bucket.
    for (const [where, local, remote] of [[here, mine, theirs], [there, theirs, mine]] as const) {
      const restore = counted(url, where)
      const read = await restore.storage.read(3)
      assert.deepEqual(Buffer.from(read.file({ file: 'join-1.0.0.state' })), mine)
      assert.deepEqual(Buffer.from(read.file({ file: 'join-1.1.0.state' })), theirs)
      assert.deepEqual(restore.storage.lastRead, { localFiles: 1, localBytes: local.byteLength, remoteFiles: 1, remoteBytes: remote.byteLength })
      assert.equal(restore.gets.length, 2)
      await restore.storage.release()
    }

    // A file that cannot be uploaded (gone from its staging folder) is marked, and fails the checkpoint.
    const failed = await store(4, 'join-1.1.0.state', undefined)
    assert.match((failed[0] as { error?: string }).error ?? '', /upload/)

    // Retention on the coordinator's machine, then on the other once it hears of a commit.
    await coordinator.storage.retain(1)
    own.committed()
    await own.close()
    assert.deepEqual(readdirSync(here), ['chk-00000003'])
    // The staging folders the uploads emptied are gone; the failed attempt at 4 stays until a newer one completes.
    assert.deepEqual(readdirSync(there).sort(), ['chk-00000003', `chk-00000004.staging-${process.pid}.tmp`])
    await coordinator.storage.release()
  } finally {
    rmSync(here, { recursive: true, force: true })
    rmSync(there, { recursive: true, force: true })
    const client = s3Client(c)
    await deleteKeys(client, c.bucket, await listKeys(client, c.bucket, `${prefix}/`)).finally(() => client.destroy())
  }
})
