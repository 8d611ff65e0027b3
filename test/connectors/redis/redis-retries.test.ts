// sink.redis's retries metric: a connection the server closes (CLIENT KILL) is opened again by the client,
// which sends the unanswered commands again; the writes all arrive and the step counts the reconnection.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { pipeline, sink, start } from '../../../src/index.ts'
import { serviceOrSkip } from '../../support/services.ts'
import { pausingSource } from '../../support/pausing-source.ts'

const svc = serviceOrSkip('redis')
const skip = svc.skip
let client: Redis | undefined
after(async () => void (await client?.quit()))

test("a connection closed by the server is opened again: every key is written and the step's retries count it", { skip }, async () => {
  const r = (client ??= new Redis(String(svc.info?.url)))
  const name = `redis-retries-${process.pid}`
  const prefix = `t${process.pid}:retries:`
  // The sink's connection is named for its pipeline and step (CLIENT SETNAME): only this test's is closed.
  const conn = `sluice:${name}/sink-redis-1`
  const ids = async () => ((await r.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => l.includes(` name=${conn} `)).map((l) => /\bid=(\d+)/.exec(l)![1])
  const kill = async () => {
    let before: string[] = []
    for (let i = 0; before.length === 0; i++) {
      if (i === 500) assert.fail(`no connection named ${conn}`)
      before = await ids()
    }
    await r.call('CLIENT', 'KILL', 'ID', before[0])
    // Until the sink's client is back under its name on a new connection.
    for (let i = 0; ; i++) {
      const now = await ids()
      if (now.length > 0 && now[0] !== before[0]) break
      if (i === 2000) assert.fail('the sink did not connect again')
      await new Promise((res) => setTimeout(res, 10))
    }
  }
  const p = pipeline(name, { batchSize: 10 })
  p.from(pausingSource(200, 5, kill)).to(sink.redis({ url: String(svc.info?.url), type: 'string', key: (x) => `${prefix}${x.id}`, value: (x) => x.id }))
  const job = start(p)
  assert.equal((await job.done).status, 'finished')
  const keys = await r.keys(`${prefix}*`)
  assert.equal(keys.length, 200)
  await r.del(...keys)
  const step = job.metrics().steps.find((t) => t.kind === 'sink-redis')
  assert.ok(step !== undefined, job.metrics().steps.map((t) => t.kind).join(', '))
  assert.ok(step.retries >= 1, `retries ${step.retries}`)
})
