// SIGTERM while a slow user function blocks the thread anywhere in the pipeline: after a fan-out into a join,
// inside a keyed process function (after a keyBy), inside a window's reduce function, in a window's result
// function or a window join's function when the window fires, at parallelism 1 and 2.
// The paused batches let the event loop in, so the drain timeout cancels the job long before the slow
// records could be done (over 100 s of them); a restart gives the output of a run that was never interrupted.
import { test } from 'node:test'
import { sigtermDrainAndResume } from './sigterm-drain.ts'

const FIXTURE = 'test/reliability/fixtures/slow-anywhere.ts'

// A window's firing runs the slow function once per key (`window-result`: a thousand keys), or once per pair of a
// key's window (`window-join`: about 25 pairs for each of 50 keys): one firing, had it no pause, would outlast the
// bound of sigtermDrainAndResume. One source partition: every key's records come in one order, so the output
// does not depend on the parallelism.
for (const where of ['join', 'process', 'window', 'window-result', 'window-join']) {
  for (const p of [1, 2]) {
    test(`p${p}: SIGTERM during a slow function in a ${where} step ends within a bound; a restart gives the uninterrupted output`, { timeout: 240_000 }, async () => {
      await sigtermDrainAndResume(FIXTURE, p, [`where=${where}`], `slow-${where}`)
    })
  }
}
