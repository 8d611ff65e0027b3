// A scheduler process for kill-resume.test.ts: drains a workflow of three chained tasks over 12 partitions
// into the store given as argv[2]; each attempt appends a line to argv[3] before and after its work, waiting a
// seeded (argv[4]) while between. With argv[5] = K, the process kills itself with SIGKILL right after the K-th
// of those lines: inside an attempt, either mid-work or with the work done but its success not yet recorded.
import { appendFileSync } from 'node:fs'
import { Scheduler, WorkflowStore, fnTask, staticPartitions, workflow } from '../../src/workflow/index.ts'

const [storePath, effectsPath, seedText, killAtText] = process.argv.slice(2) as [string, string, string, string | undefined]
let seed = Number(seedText)
const killAt = Number(killAtText ?? 0)
let lines = 0
const note = (line: string): void => {
  appendFileSync(effectsPath, line)
  if (++lines === killAt) process.kill(process.pid, 'SIGKILL')
}
const wait = (): Promise<void> => new Promise((r) => setTimeout(r, (seed = (seed * 48271) % 2147483647) % 15))
const step = fnTask(async (c) => {
  note(`start ${c.task} ${c.partition} ${c.attempt}\n`)
  await wait()
  note(`done ${c.task} ${c.partition} ${c.attempt}\n`)
})
const wf = workflow('killme', { partitions: staticPartitions(Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}`)), concurrency: 3 })
  .task('extract', step)
  .task('transform', step, { dependsOn: ['extract'] })
  .task('load', step, { dependsOn: ['transform'] })
  .build()
const store = new WorkflowStore(storePath)
const s = new Scheduler(wf, { store })
s.recover()
s.materialize()
const sum = await s.drain()
store.close()
process.stdout.write(`${JSON.stringify(sum)}\n`)
