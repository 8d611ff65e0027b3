/**
 * `npm run bench -- http [--seconds N] [--connections N] [--records N]`: acknowledged records per second into
 * `source.http` (each POST an NDJSON body of N records, fsynced in the embedded log before its 200), with the p99
 * request latency, by autocannon against a pipeline with checkpoints writing to a blackhole, in this process.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { pipeline, sink, source, start } from '../../src/index.ts'

const flag = (argv: string[], name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? Number(argv[i + 1]) : dflt
}

export async function main(argv: string[]): Promise<void> {
  const seconds = flag(argv, 'seconds', 10)
  const connections = flag(argv, 'connections', 16)
  const perRequest = flag(argv, 'records', 100)
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-http-'))
  let port = 0
  let job: ReturnType<typeof start> | undefined
  const listening = new Promise<void>((resolve) => {
    const p = pipeline('bench-http')
    p.from(source.http({ port: 0, path: '/in', logDir: join(dir, 'log'), maxLag: 1_000_000, maxBodyBytes: 16 << 20, onListen: (n) => ((port = n), resolve()) })).to(sink.blackhole())
    job = start(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 1000 } })
  })
  await listening
  let body = ''
  for (let i = 0; i < perRequest; i++) body += JSON.stringify({ id: i, user: `u${i % 97}`, amount: i * 1.5, ts: 1767225600000 + i }) + '\n'
  const result = await autocannon({ url: `http://127.0.0.1:${port}/in`, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' }, connections, duration: seconds })
  await job!.stop()
  await rm(dir, { recursive: true, force: true })
  const ok = result['2xx']
  const out = {
    requests: result.requests.total,
    acknowledged: ok,
    refused: result.non2xx,
    recordsPerSecond: Math.round((ok * perRequest) / seconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    connections,
    recordsPerRequest: perRequest,
  }
  console.log(JSON.stringify(out))
}
