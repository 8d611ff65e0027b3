import { PrometheusExposition } from '../observe/prometheus/exposition.ts'
import type { JobHandle } from '../runtime/job/types.ts'
import type { JobInfo } from './job-info.ts'

/**
 * `/metrics` of the control plane: every served job in the Prometheus text format, one exposition per job
 * (each knows its pipeline's dead letters and objectives) merged so that each metric family appears once.
 * @example const text = await new ServerMetrics(jobs, infos).render()
 */
export class ServerMetrics {
  readonly contentType: string
  private readonly jobs: ReadonlyMap<string, JobHandle>
  private readonly expositions = new Map<string, PrometheusExposition>()

  constructor(jobs: ReadonlyMap<string, JobHandle>, infos: ReadonlyMap<string, JobInfo> | undefined) {
    this.jobs = jobs
    for (const name of jobs.keys()) {
      const info = infos?.get(name)
      this.expositions.set(name, new PrometheusExposition({ deadLetters: info?.deadLetters === true, ...(info?.slo !== undefined ? { slo: info.slo } : {}) }))
    }
    this.contentType = new PrometheusExposition().contentType
  }

  async render(): Promise<string> {
    const families = new Map<string, { head: string[]; samples: string[] }>()
    for (const [name, job] of this.jobs) {
      const text = await this.expositions.get(name)!.render(job.metrics())
      let current: { head: string[]; samples: string[] } | undefined
      for (const line of text.split('\n')) {
        if (line === '') continue
        const m = /^# (HELP|TYPE) (\S+)/.exec(line)
        if (m !== null) {
          const known = families.get(m[2]!)
          current = known ?? { head: [], samples: [] }
          if (known === undefined) families.set(m[2]!, current)
          if (known === undefined || current.head.length < 2) if (!current.head.includes(line)) current.head.push(line)
          continue
        }
        current?.samples.push(line)
      }
    }
    return [...families.values()].map((f) => [...f.head, ...f.samples].join('\n')).join('\n') + '\n'
  }
}
