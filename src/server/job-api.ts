import type { Context, Hono } from 'hono'
import type { JobHandle } from '../runtime/job/types.ts'
import { listDeadLetters, redriveDeadLetters, showDeadLetter } from './dead-letters.ts'
import { explainWindow, partitionWatermarks } from './explain.ts'
import { maskPersonal, type JobInfo } from './job-info.ts'
import { ServerMetrics } from './metrics.ts'
import { SloTracker } from './slo.ts'
import { ExplainQuery, LettersQuery, queryOf } from './routes.ts'

type Fail = (c: Context, status: 400 | 404 | 409, code: string, message: string) => Response

export interface JobApiDeps {
  jobs: ReadonlyMap<string, JobHandle>
  infos: ReadonlyMap<string, JobInfo> | undefined
  redriveDir: string
  prometheusUrl: string | undefined
  job(c: Context): JobHandle | Response
  body<T>(c: Context, path: string): Promise<T | Response>
  fail: Fail
  /** Whether the caller sees records unmasked (the `records` setting and its role). */
  unmasked(c: Context): boolean
}

const finite = (n: number) => (Number.isFinite(n) ? n : null)

/**
 * The routes that read into running jobs (errors, SLOs, watermarks, the window explainer, late samples, dead
 * letters and their redrive) and `/metrics`; their roles and schemas are declared in routes.ts.
 */
export function jobApi(app: Hono<any>, d: JobApiDeps): void {
  const personal = (c: Context) => (d.unmasked(c) ? [] : (d.infos?.get(c.req.param('job') ?? '')?.personal ?? []))
  const errors = recentErrors(d.jobs)
  const slos = new Map<string, SloTracker>()
  for (const [name, h] of d.jobs) {
    const spec = d.infos?.get(name)?.slo
    if (spec === undefined) continue
    const t = new SloTracker(name, spec, () => h.metrics(), { deadLetters: d.infos?.get(name)?.deadLetters === true, ...(d.prometheusUrl !== undefined ? { prometheusUrl: d.prometheusUrl } : {}) })
    slos.set(name, t)
    void h.done.then(() => t.close(), () => t.close())
  }
  const metrics = new ServerMetrics(d.jobs, d.infos)

  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': metrics.contentType }))
  app.get('/api/jobs/:job/errors', (c) => {
    const h = d.job(c)
    return h instanceof Response ? h : c.json({ restarts: h.metrics().restarts, errors: errors.get(c.req.param('job'))! })
  })
  app.get('/api/jobs/:job/slo', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    return c.json((await slos.get(c.req.param('job'))?.status()) ?? [])
  })
  app.get('/api/jobs/:job/watermarks', (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const i = h.inspect()
    const steps = i.watermarks().map((s) => ({ step: s.step, watermark: finite(s.watermark), inputs: s.inputs.map((x) => ({ from: x.from, watermark: finite(x.watermark), idle: x.idle })) }))
    return c.json({ sources: partitionWatermarks(i, Date.now()), steps })
  })
  app.get('/api/jobs/:job/explain', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const { step, key, time } = queryOf(c, ExplainQuery)
    const e = await explainWindow(h.inspect(), step, key, time ?? Date.now(), Date.now())
    return e !== undefined ? c.json(e) : d.fail(c, 404, 'SLUICE_NOT_FOUND', `no running window step '${step}' in this job`)
  })
  app.get('/api/jobs/:job/late', (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const mask = personal(c)
    return c.json(
      h.inspect().lateSamples().map((s) => ({
        step: s.step,
        seen: s.samples.length === 0 ? 0 : s.seen,
        samples: s.samples.map(({ at, late }) => {
          const l = (typeof late === 'object' && late !== null ? late : { record: late }) as Record<string, unknown>
          return { at, ...l, ...(typeof l.watermark === 'number' ? { watermark: finite(l.watermark) } : {}), record: maskPersonal(l.record, mask) }
        }),
      })),
    )
  })

  /** The job's open dead-letter log, or the response saying why there is none. */
  const letters = (c: Context, h: JobHandle) => {
    const dl = h.inspect().deadLetters()
    if (dl !== undefined) return dl
    const configured = d.infos?.get(c.req.param('job') ?? '')?.deadLetters === true
    return configured || h.status().status !== 'running'
      ? d.fail(c, 409, 'SLUICE_JOB_NOT_RUNNING', `the job is ${h.status().status}: its dead-letter log is open only while it runs (read it then with sluice dlq)`)
      : d.fail(c, 404, 'SLUICE_NOT_FOUND', "this job has no dead-letter log (pipeline option onError: 'dead-letter')")
  }
  app.get('/api/jobs/:job/dead-letters', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const { from, limit } = queryOf(c, LettersQuery)
    const dl = letters(c, h)
    return dl instanceof Response ? dl : c.json(await listDeadLetters(dl.log, dl.topic, { from, limit, personal: personal(c) }))
  })
  app.get('/api/jobs/:job/dead-letters/:offset', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const offset = Number(c.req.param('offset'))
    if (!Number.isSafeInteger(offset) || offset < 0) return d.fail(c, 400, 'SLUICE_BAD_ARGUMENT', 'the offset must be a non-negative integer')
    const dl = letters(c, h)
    if (dl instanceof Response) return dl
    const l = await showDeadLetter(dl.log, dl.topic, offset, personal(c))
    return l !== undefined ? c.json(l) : d.fail(c, 404, 'SLUICE_NOT_FOUND', `no dead letter at offset ${offset}`)
  })
  app.post('/api/jobs/:job/dead-letters/redrive', async (c) => {
    const h = d.job(c)
    if (h instanceof Response) return h
    const b = await d.body<{ topic?: string; file?: string; step?: string; from?: number }>(c, '/api/jobs/:job/dead-letters/redrive')
    if (b instanceof Response) return b
    const dl = letters(c, h)
    if (dl instanceof Response) return dl
    if (b.topic === dl.topic) return d.fail(c, 400, 'SLUICE_BAD_ARGUMENT', 'letters cannot be redriven into their own dead-letter topic')
    return c.json(await redriveDeadLetters(dl.log, dl.topic, b, d.redriveDir))
  })
}

/** The last 50 error events of each job, newest last. */
function recentErrors(jobs: ReadonlyMap<string, JobHandle>): Map<string, { at: number; code: string; message: string }[]> {
  const out = new Map<string, { at: number; code: string; message: string }[]>()
  for (const [name, h] of jobs) {
    const list: { at: number; code: string; message: string }[] = []
    out.set(name, list)
    h.on((e) => {
      if (e.type === 'error') list.push({ at: Date.now(), ...e.error })
      else if (e.type === 'checkpoint-failed') list.push({ at: Date.now(), code: 'checkpoint', message: `checkpoint ${e.id} failed: ${e.error}` })
      else return
      if (list.length > 50) list.shift()
    })
  }
  return out
}
