import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MetricsRegistry } from '../../src/observe/metrics/registry.ts'
import { FakeRunner } from '../../src/runtime/job/fake-runner.ts'
import { createJob } from '../../src/runtime/job/handle.ts'
import type { JobHandle } from '../../src/runtime/job/types.ts'
import { controlPlane } from '../../src/server/app.ts'
import { AuditLog } from '../../src/server/audit.ts'
import type { Role } from '../../src/server/roles.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { ServerSettings } from '../../src/server/settings.ts'
import { DeadLetterWriter } from '../../src/dlq/writer.ts'
import { deadLetter } from '../../src/dlq/record.ts'
import { jobInfoOf } from '../../src/server/job-info.ts'
import type { JobInspector } from '../../src/runtime/job/types.ts'
import { contract, pipeline, sink, source, withContract } from '../../src/index.ts'
import { SchemaRegistry } from '../../src/contracts/registry/registry.ts'
import { Catalog } from '../../src/catalog/catalog.ts'
import { WorkflowStore } from '../../src/workflow/store.ts'
import type { RunEvent } from '../../src/lineage/openlineage.ts'
import { LocalKeyring } from '../../src/privacy/keys/local-keyring.ts'
import { TokenVault } from '../../src/privacy/vault/token-vault.ts'
import { randomBytes } from 'node:crypto'

/** Fixed figures the fake job's inspector shows: two dead letters, late samples, a window waiting on a partition. */
export const T0 = Date.UTC(2026, 0, 1)
const letter = (n: number) => deadLetter({ pipeline: 'clicks', step: 'parse', reason: 'user-function', error: new Error(`bad amount in record ${n}`), position: `in.jsonl:${n}`, attempts: 1, time: T0 + n, eventTime: T0 + n, record: { n, email: `u${n}@example.com` }, raw: false, includeStack: false })

function fakeInspector(dl: DeadLetterWriter): JobInspector {
  return {
    deadLetters: () => ({ log: dl.openLog, topic: dl.topic }),
    lateSamples: () => [{ step: 'count', seen: 7, samples: [{ at: T0, late: { step: 'count', reason: 'window-closed', time: T0 - 60_000, watermark: T0, record: { n: 9, email: 'late@example.com' } } }] }],
    sources: () => [{ step: 'read', partitions: [{ partition: 0, watermark: T0 + 5000, idle: false, ended: false, lastDataAt: Date.now() }, { partition: 1, watermark: T0 + 500, idle: false, ended: false, lastDataAt: Date.now() - 60_000 }, { partition: 2, watermark: T0, idle: true, ended: false, lastDataAt: Date.now() - 60_000 }] }],
    watermarks: () => [{ step: 'count', steps: ['count'], watermark: T0 + 500, inputs: [{ from: 'read', watermark: T0 + 500, idle: false }] }],
    window: async (step, key, time) =>
      step !== 'count'
        ? undefined
        : { watermark: T0 + 500, allowedLateness: 0, trigger: { kind: 'event-time' }, assigner: { kind: 'tumbling' }, keyFound: key === 'eu', assigned: [{ start: Math.floor(time / 1000) * 1000, end: Math.floor(time / 1000) * 1000 + 1000 }], open: key === 'eu' ? [{ start: T0, end: T0 + 1000, triggerState: 0, pending: true, fired: false, minTs: T0, maxTs: T0 + 10 }] : [] },
  }
}

/** The contract of the fixture job's source: the e-mail address is personal. */
export const clicksContract = contract({ name: 'clicks', owner: 'web', personal: ['email'], schema: { type: 'object', properties: { n: { type: 'number' }, email: { type: 'string' } }, required: ['n'] } as const })

/** A catalog of one job that reads `file:/in/clicks.jsonl` (e-mail tagged personal) and writes it masked to `file:/out/clicks.jsonl`. */
export function fixtureCatalog(): Catalog {
  const catalog = Catalog.open(':memory:')
  const personal = [{ key: 'classification', value: 'personal' }]
  catalog.ingestEvent({
    eventType: 'COMPLETE',
    eventTime: new Date(T0).toISOString(),
    run: { runId: '01900000-0000-7000-8000-000000000001' },
    job: { namespace: 'sluice', name: 'clicks' },
    inputs: [{ namespace: 'file', name: '/in/clicks.jsonl', facets: { schema: { fields: [{ name: 'n', type: 'number' }, { name: 'email', type: 'string', tags: personal }] } } }],
    outputs: [{ namespace: 'file', name: '/out/clicks.jsonl', facets: { schema: { fields: [{ name: 'n', type: 'number' }, { name: 'email', type: 'string' }] }, columnLineage: { fields: { n: { inputFields: [{ namespace: 'file', name: '/in/clicks.jsonl', field: 'n', transformations: [{ type: 'DIRECT', subtype: 'IDENTITY', masking: false }] }] }, email: { inputFields: [{ namespace: 'file', name: '/in/clicks.jsonl', field: 'email', transformations: [{ type: 'DIRECT', subtype: 'TRANSFORMATION', masking: true }] }] } } } } }],
  } as unknown as RunEvent)
  return catalog
}

/** A control plane over one running job on a fake runner, with a token per role. */
export async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-server-'))
  const { handle, control } = createJob('clicks', new MetricsRegistry({ pipeline: 'clicks' }), { warn: () => {} })
  const runner = new FakeRunner(control)
  const running = runner.run()
  const dl = await DeadLetterWriter.open({ dir: join(dir, 'dlq'), topic: 'clicks.dlq' })
  dl.add(letter(1))
  dl.add(letter(2))
  await dl.flush()
  control.inspector = fakeInspector(dl)
  const p = pipeline('clicks', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'dlq') }, slo: { errors: { objective: 0.99 }, completeness: { objective: 0.9 } } })
  p.from(withContract(source.generator({ make: (g) => ({ n: g.seq }) }), clicksContract)).id('read').to(sink.blackhole())
  const info = jobInfoOf(p)
  // The registry holds the contract's schema as version 1 of its subject.
  const registry = join(dir, 'registry')
  await (await SchemaRegistry.open(registry)).register(clicksContract.subject, { schema: clicksContract.schemaText.schema, schemaType: clicksContract.schemaText.schemaType })
  const jobs = new Map<string, JobHandle>([['clicks', handle]])
  const tokens = await TokenStore.open(join(dir, 'server'))
  const audit = await AuditLog.open(join(dir, 'server', 'log'))
  const token = {} as Record<Role, string>
  for (const r of ['viewer', 'operator', 'admin'] as const) token[r] = (await tokens.create(r)).token
  const catalog = fixtureCatalog()
  // A workflow of two tasks over two days: the first day done, the second's load failed and its publish never ran.
  const store = new WorkflowStore(':memory:')
  store.enqueue('daily', ['load', 'publish'], ['2026-01-01', '2026-01-02'], T0)
  for (const [task, partition, outcome] of [['load', '2026-01-01', 'succeeded'], ['publish', '2026-01-01', 'succeeded'], ['load', '2026-01-02', 'failed']] as const) {
    store.claim('daily', task, partition, T0)
    store.finish(store.run('daily', task, partition)!, outcome, T0 + 10, outcome === 'failed' ? 'no file' : null, undefined)
  }
  store.setStatus('daily', [{ task: 'publish', partition: '2026-01-02' }], 'upstream_failed', ['pending'], T0 + 10)
  const workflows = { store, definitions: [{ name: 'daily', partitions: 'daily', tasks: [{ name: 'load', kind: 'shell', dependsOn: [] }, { name: 'publish', kind: 'function', dependsOn: ['load'] }] }] }
  // A token vault holding one e-mail address: admins may detokenize its token.
  const vault = TokenVault.open(join(dir, 'vault'), LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32)))
  const vaultToken = vault.tokenize('ada@example.com') as string
  const settings = new ServerSettings()
  const app = controlPlane({ jobs, infos: new Map([['clicks', info]]), catalog, registry, workflows, vault, tokens, audit, settings, savepointDir: join(dir, 'savepoints'), redriveDir: join(dir, 'redrive'), streamIntervalMs: 20 })
  const call = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) =>
    app.request(path, {
      method,
      headers: { ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    })
  const close = async () => {
    if (!control.isEnded) await handle.cancel().catch(() => {})
    await running
    await dl.close(false)
    await audit.close()
    catalog.close()
    store.close()
    await vault.close()
    await rm(dir, { recursive: true, force: true })
  }
  return { dir, app, call, token, tokens, audit, settings, handle, runner, vaultToken, close }
}
