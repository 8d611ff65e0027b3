import type { JobEvent, JobHandle } from './types.ts'
import type { MetricsSnapshot } from '../../observe/metrics/registry.ts'
import type { Logger } from '../../observe/log/logger.ts'
import { scrubMessage } from '../../observe/log/scrub.ts'

/**
 * Logs what happens to a job as it happens: status changes, checkpoints completed (`checkpoint`, size and
 * times) or failed, restores, errors and stops. Returns the function that stops logging.
 * @example const stop = logJobEvents(job, createLogger({ pipeline: job.pipeline }))
 */
export function logJobEvents(job: JobHandle, log: Logger): () => void {
  return job.on((e) => logEvent(log, e))
}

function logEvent(log: Logger, e: JobEvent): void {
  switch (e.type) {
    case 'status':
      return log.info({ status: e.status }, `job ${e.status}`)
    case 'checkpoint-completed': {
      const s = e.stats
      const fields = { checkpoint: s.id, bytes: s.bytes, alignmentMs: s.alignmentMs, syncMs: s.syncMs, asyncMs: s.asyncMs, incremental: s.delta === true }
      return log.info(e.savepoint !== undefined ? { ...fields, savepoint: e.savepoint } : fields, e.savepoint !== undefined ? 'savepoint completed' : 'checkpoint completed')
    }
    case 'checkpoint-failed':
      return log.warn({ checkpoint: e.id, reason: scrubMessage(e.error) }, 'checkpoint failed')
    case 'restored':
      return log.info({ checkpoint: e.id, from: e.from }, 'restored')
    case 'error':
      // Sluice's own messages name steps and positions, never contents; any other may quote its input.
      return log.error({ code: e.error.code, reason: e.error.code.startsWith('SLUICE_') ? e.error.message : scrubMessage(e.error.message) }, 'error')
    case 'stop':
      return log.info({ reason: e.reason }, 'stopping')
  }
}

/**
 * One line per step and subtask with its counts, at the end of a run (`step` and `subtask` fields), and one
 * for the job.
 * @example logFinalMetrics(log, job.metrics())
 */
export function logFinalMetrics(log: Logger, s: MetricsSnapshot): void {
  for (const t of s.subtasks) {
    log.info({ step: t.step, kind: t.kind, subtask: t.subtask, recordsIn: t.recordsIn, recordsOut: t.recordsOut, late: t.late, errors: t.errors, dropped: t.dropped }, 'step totals')
  }
  log.info({ status: s.status, restarts: s.restarts, checkpoints: s.checkpoints.completed, checkpointsFailed: s.checkpoints.failed }, 'job totals')
}
