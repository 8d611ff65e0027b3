import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { agg, pipeline, sink, source, start, watermark, window } from '../../src/index.ts'
import { controlPlane } from '../../src/server/app.ts'
import { fixture } from './support.ts'

type Detail = { id: number; ok: boolean; savepoint?: string; manifest: null | { kind: string; folder: string; parallelism: number; steps: { step: string; keyed: boolean; bytes: number }[]; sources: { step: string; partitions: number }[]; sinks: unknown[] }; why?: string }

test("a checkpoint's and a savepoint's details come from their manifest while kept; an unknown id is 404", { timeout: 60_000 }, async () => {
  const f = await fixture()
  const p = pipeline('counted')
  p.from(source.generator({ make: (g) => ({ k: g.seq % 3, ts: Date.now() }), ratePerSecond: 200, partitions: 2, eventTime: (r) => r.ts, watermark: watermark.boundedOutOfOrder('1s') }))
    .id('read')
    .keyBy((r) => String(r.k))
    .window(window.tumbling({ size: '1m' }))
    .aggregate(agg.count())
    .id('counts')
    .to(sink.blackhole())
  const cp = join(f.dir, 'cp')
  // Checkpoints only when asked: the ids below are the API's.
  const job = start(p, { checkpoint: { dir: cp, intervalMs: 3_600_000 } })
  const jobs = new Map([['counted', job]])
  const app = controlPlane({ jobs, checkpointDirs: new Map([['counted', cp]]), tokens: f.tokens, audit: f.audit, savepointDir: join(f.dir, 'savepoints') })
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, { method, headers: { authorization: `Bearer ${f.token.operator}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  try {
    while ((job.metrics().steps.find((s) => s.step === 'counts')?.recordsIn ?? 0) === 0) await new Promise((r) => setTimeout(r, 50))
    const taken = await call('POST', '/api/jobs/counted/checkpoint')
    assert.equal(taken.status, 200)
    const id = taken.body.id as number
    const d = (await call('GET', `/api/jobs/counted/checkpoints/${id}`)).body as Detail
    assert.equal(d.id, id)
    assert.equal(d.ok, true)
    assert.equal(d.manifest?.kind, 'checkpoint')
    assert.equal(d.manifest.folder, join(cp, `chk-${String(id).padStart(8, '0')}`))
    const counts = d.manifest.steps.find((s) => s.step === 'counts')
    assert.ok(counts !== undefined && counts.keyed && counts.bytes > 0, JSON.stringify(d.manifest.steps))
    assert.deepEqual(d.manifest.sources.map((s) => [s.step, s.partitions]), [['read', 2]])

    const sp = await call('POST', '/api/jobs/counted/savepoint', { name: 'before-upgrade' })
    assert.equal(sp.status, 200)
    const s = (await call('GET', `/api/jobs/counted/checkpoints/${sp.body.id as number}`)).body as Detail
    assert.equal(s.manifest?.kind, 'savepoint')
    assert.equal(s.manifest.folder, join(f.dir, 'savepoints', 'before-upgrade'))
    assert.equal(s.savepoint, s.manifest.folder)

    assert.equal((await call('GET', '/api/jobs/counted/checkpoints/999')).status, 404)
    assert.equal((await call('GET', '/api/jobs/counted/checkpoints/one')).status, 400)
    // A checkpoint retention removed: its figures stay, its manifest is gone and the answer says why.
    await rm(join(cp, `chk-${String(id).padStart(8, '0')}`), { recursive: true, force: true })
    const gone = (await call('GET', `/api/jobs/counted/checkpoints/${id}`)).body as Detail
    assert.equal(gone.manifest, null)
    assert.match(gone.why ?? '', /no longer kept/)
    assert.equal(typeof (gone as unknown as { bytes: number }).bytes, 'number')
  } finally {
    await job.stop().catch(() => {})
    await f.close()
  }
})
