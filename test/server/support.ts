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

/** A control plane over one running job on a fake runner, with a token per role. */
export async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-server-'))
  const { handle, control } = createJob('clicks', new MetricsRegistry({ pipeline: 'clicks' }), { warn: () => {} })
  const runner = new FakeRunner(control)
  const running = runner.run()
  const jobs = new Map<string, JobHandle>([['clicks', handle]])
  const tokens = await TokenStore.open(join(dir, 'server'))
  const audit = await AuditLog.open(join(dir, 'server', 'log'))
  const token = {} as Record<Role, string>
  for (const r of ['viewer', 'operator', 'admin'] as const) token[r] = (await tokens.create(r)).token
  const app = controlPlane({ jobs, tokens, audit, savepointDir: join(dir, 'savepoints'), streamIntervalMs: 20 })
  const call = (method: string, path: string, opts: { token?: string; body?: unknown } = {}) =>
    app.request(path, {
      method,
      headers: { ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
    })
  const close = async () => {
    if (!control.isEnded) await handle.cancel().catch(() => {})
    await running
    await audit.close()
    await rm(dir, { recursive: true, force: true })
  }
  return { dir, app, call, token, tokens, audit, handle, runner, close }
}
