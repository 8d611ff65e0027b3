import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { timeOf, type RetentionAction } from './plan.ts'
import { removeSegments } from './topics.ts'

/**
 * Carries out a retention plan and logs every deletion as one JSON line in `logFile` (time, artifact, path,
 * action, reason, bytes) before it is made, so the log shows what went even if the process dies half-way.
 * A trimmed log is rewritten to a temporary file, fsynced and renamed over the old one (lines appended while
 * it is rewritten would be lost: trim a log when no run writes to it). Returns the actions done.
 * @example await applyRetention(await planRetention(policy, Date.now()), '.sluice/retention.log', Date.now())
 */
export async function applyRetention(plan: readonly RetentionAction[], logFile: string, now: number): Promise<RetentionAction[]> {
  await mkdir(dirname(logFile), { recursive: true })
  const done: RetentionAction[] = []
  for (const a of plan) {
    await appendFile(logFile, JSON.stringify({ time: new Date(now).toISOString(), ...a }) + '\n')
    if (a.segment !== undefined) continue // removed below, through the log
    if (a.action === 'remove') await rm(a.path, { recursive: true, force: true })
    else await trim(a.path, a.cutoff ?? -Infinity)
    done.push(a)
  }
  const segments = plan.filter((a) => a.segment !== undefined)
  await removeSegments(segments)
  return [...done, ...segments]
}

async function trim(path: string, cutoff: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '')
  const kept = text.split('\n').filter((l) => l !== '' && timeOf(l) >= cutoff)
  const tmp = `${path}.retention.tmp`
  const f = await open(tmp, 'w')
  try {
    await f.writeFile(kept.length > 0 ? kept.join('\n') + '\n' : '')
    await f.sync()
  } finally {
    await f.close()
  }
  await rename(tmp, path)
}
