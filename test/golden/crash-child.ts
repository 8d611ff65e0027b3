// Runs a golden case in this process with checkpoints, its file source paced so that a checkpoint comes
// after every `every` records (see test/checkpoint/paced.ts): a failpoint's N-th pass (SLUICE_FAILPOINT)
// then falls at a record count, not at a moment, however fast or busy the machine is.
//   node test/golden/crash-child.ts <case dir> <output> <checkpoint dir> <every>
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Stream, run, source, type PipelineFactory } from 'sluice'
import { pacedByCheckpoints } from '../checkpoint/paced.ts'

const [dir, output, checkpointDir, every] = process.argv.slice(2)
const jsonl = source.jsonl
// The case's pipeline builds its source through `source.jsonl`: wrap what it returns.
source.jsonl = ((path, options) => pacedByCheckpoints(jsonl(path, options), every)) as typeof source.jsonl
const build = (await import(pathToFileURL(resolve(dir, 'pipeline.ts')).href)).default as PipelineFactory
// The input as `sluice run` names it in the restoring run: a file source finds its position by that name.
const params = { input: `${dir}/input.jsonl`, output }
const built = await build({ params })
const p = built instanceof Stream ? built.pipeline : built
// As the golden test's other runs: a record is judged late against the watermark of the records before it.
p.options.batchSize = 1
await run(p, { params, checkpoint: { dir: checkpointDir, intervalMs: 1 } })
