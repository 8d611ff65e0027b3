// SIGTERM while a user function blocks the thread: the batches of a slow map pause and let the event loop in,
// so the signal is heard and the drain timeout cancels the job long before the batch could have finished
// (1,024 records at 100 ms each: over 100 s). A restart gives the output of a run that was never interrupted.
import { test } from 'node:test'
import { sigtermDrainAndResume } from './sigterm-drain.ts'

const FIXTURE = 'test/reliability/fixtures/slow-map.ts'

for (const p of [1, 2]) {
  test(`p${p}: SIGTERM during a blocking map ends within a bound; a restart gives the uninterrupted output`, { timeout: 240_000 }, async () => {
    await sigtermDrainAndResume(FIXTURE, p, [`partitions=${p}`], 'slow-stop')
  })
}
