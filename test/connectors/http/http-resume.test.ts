// source.http in the source conformance (resume) suite (src/connectors/resume.test.ts), unbounded form: what a
// first reader read before a cut and a fresh reader read after seeking to it equal one straight read.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { source } from '../../../src/index.ts'
import { checkResumeUnbounded } from '../../../src/connectors/resume-support.ts'

test('source.http: resumes at the log offset after any batch', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-http-resume-'))
  let port = 0
  const make = () => source.http<{ id: number }>({ port: 0, path: '/in', logDir: dir, onListen: (p) => (port = p) })
  const feed = async () => {
    for (let from = 0; from < 60; from += 10) {
      const body = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: from + i })).join('\n')
      const res = await fetch(`http://127.0.0.1:${port}/in`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } })
      assert.equal(res.status, 200, await res.text())
    }
  }
  try {
    const { resumed } = await checkResumeUnbounded(make, { total: 60, max: 7, resumeMax: 4, cuts: [0, 1, 3, 5, -2, -1], feed, maxWaits: 100 })
    assert.ok(resumed.length >= 4, `${resumed.length} cuts`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
