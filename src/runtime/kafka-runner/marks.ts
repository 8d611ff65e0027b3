import { smallObjects } from '../../checkpoint/small-objects.ts'

/** How a Kafka-runner job ended: it finished (bounded input) or was stopped. */
export type EndedAs = 'finished' | 'stopped'

/**
 * What a Kafka-runner job notes beside its checkpoints, for every worker to find: that it ended (`runner/finished.json`:
 * workers started afterwards exit at once) and that a stop is under way (`runner/stopping.json`: every later
 * run stops at once). Files in a checkpoint folder, or objects under the prefix of an `s3://bucket/prefix`.
 * @example const marks = runnerMarks('s3://state/clicks'); if ((await marks.ended()) !== undefined) return
 */
export interface RunnerMarks {
  ended(): Promise<EndedAs | undefined>
  markEnded(status: EndedAs): Promise<void>
  stopping(): Promise<boolean>
  /** Written before a stop request is answered. */
  markStopping(): Promise<void>
  close(): void
}

const FINISHED = 'runner/finished.json'
const STOPPING = 'runner/stopping.json'
const body = (x: Record<string, unknown>): string => JSON.stringify({ ...x, at: new Date().toISOString() }) + '\n'
const endedOf = (text: string): EndedAs => {
  try {
    return (JSON.parse(text) as { status?: string }).status === 'stopped' ? 'stopped' : 'finished'
  } catch {
    return 'finished'
  }
}

export function runnerMarks(dir: string): RunnerMarks {
  const notes = smallObjects(dir)
  return {
    async ended() {
      const text = await notes.get(FINISHED)
      return text === undefined ? undefined : endedOf(text)
    },
    markEnded: (status) => notes.put(FINISHED, body({ status })),
    stopping: async () => (await notes.get(STOPPING)) !== undefined,
    markStopping: () => notes.put(STOPPING, body({})),
    close: () => notes.close(),
  }
}
