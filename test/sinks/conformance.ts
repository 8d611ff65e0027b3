import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, open, readFile, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { failpoint } from '../../src/core/failpoints.ts'
import type { RestoredHandle, SinkWriter } from '../../src/core/sink.ts'
import { CASES, type Rec } from './cases.ts'
import { serviceOrSkip } from '../support/services.ts'

// One suite for every sink: a child process drives writers through the sink contract the way the runtime and
// the checkpoint coordinator do (recover, write, preCommit at a barrier, a manifest written atomically, commit),
// is killed with SIGKILL at a failpoint, and is started again from its last manifest, perhaps at another
// parallelism; once a run ends, the committed output must hold every record exactly once.

const COUNT = 600
const BATCH = 25
/** Records between checkpoints. */
const EVERY = 100

/** What the child keeps as its checkpoint manifest: the position and, per subtask, handles not yet committed. */
interface FakeManifest {
  id: number
  position: number
  pending: { subtask: number; checkpointId: number; handle: unknown }[][]
}

/**
 * The child: drives `parallelism` writers of one case over records 0..COUNT-1 (record n to subtask n % p),
 * resuming from `<dir>/manifest.json`. Failpoints: `conformance-write` after a batch, `conformance-before-manifest`
 * after the pre-commits, `checkpoint-before-commit`, `sink-commit` after each writer's commit,
 * `checkpoint-after-commit`, and those of TwoPhaseCommit.
 */
export async function drive(caseName: string, dir: string, parallelism: number, restoreFrom?: number): Promise<void> {
  const c = CASES[caseName]
  const manifestPath = join(dir, 'manifest.json')
  const from = restoreFrom === undefined ? manifestPath : join(dir, `manifest-${restoreFrom}.json`)
  const m = await readFile(from, 'utf8').then((t) => JSON.parse(t) as FakeManifest, () => undefined)
  const writers: SinkWriter<Rec>[] = []
  for (let k = 0; k < parallelism; k++) writers.push(await c.open(dir, { pipeline: 'conf', stepId: 'sink-1', subtask: k, parallelism, checkpointing: true }))
  for (let k = 0; k < parallelism; k++) {
    const restored: RestoredHandle[] = (m?.pending ?? []).filter((_, j) => j % parallelism === k).flat()
    await writers[k].recover?.(restored)
  }
  let position = m?.position ?? 0
  // Ids continue after the manifest's: a checkpoint that never got its manifest gives its id to the next one.
  let id = (m?.id ?? 0) + 1
  const pending: FakeManifest['pending'] = writers.map(() => [])
  const checkpoint = async () => {
    for (let k = 0; k < parallelism; k++) pending[k].push({ subtask: k, checkpointId: id, handle: await writers[k].preCommit?.(id) })
    failpoint('conformance-before-manifest')
    const text = JSON.stringify({ id, position, pending } satisfies FakeManifest)
    await writeDurable(join(dir, `manifest-${id}.json`), text)
    await writeDurable(manifestPath, text)
    failpoint('checkpoint-before-commit')
    for (let k = 0; k < parallelism; k++) {
      for (const p of pending[k]) await writers[k].commit?.(p.checkpointId, p.handle)
      pending[k] = []
      failpoint('sink-commit')
    }
    failpoint('checkpoint-after-commit')
    id++
  }
  while (position < COUNT) {
    const end = Math.min(position + BATCH, COUNT)
    for (let k = 0; k < parallelism; k++) {
      const values: Rec[] = []
      for (let n = position; n < end; n++) if (n % parallelism === k) values.push({ n })
      if (values.length > 0) await writers[k].write({ values, times: values.map(() => 0) })
    }
    position = end
    failpoint('conformance-write')
    if (position % EVERY === 0 || position === COUNT) await checkpoint()
  }
  for (const w of writers) await w.close()
}

async function writeDurable(path: string, text: string): Promise<void> {
  const fh = await open(`${path}.tmp`, 'w')
  await fh.writeFile(text)
  await fh.sync()
  await fh.close()
  await rename(`${path}.tmp`, path)
}

const child = fileURLToPath(new URL('./fixtures/drive-child.ts', import.meta.url))

function runChild(caseName: string, dir: string, parallelism: number, fp: string | undefined, restore: number | undefined): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.SLUICE_FAILPOINT
    if (fp !== undefined) env.SLUICE_FAILPOINT = fp
    const p = spawn(process.execPath, [child, caseName, dir, String(parallelism), ...(restore === undefined ? [] : [String(restore)])], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    p.stderr.on('data', (d) => (stderr += d))
    const guard = setTimeout(() => p.kill('SIGKILL'), 240_000)
    p.on('error', reject)
    p.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, stderr })
    })
  })
}

/**
 * One run of a scenario: its parallelism, the failpoint that kills it (none: it runs to the end), and the
 * checkpoint it restores instead of the latest (as from a savepoint).
 */
export interface Run {
  p: number
  kill?: string
  restore?: number
}

/** Kills at every failpoint of the contract, then a clean restart. */
const KILLS: Run[][] = [
  [{ p: 1, kill: 'conformance-write:3' }],
  [{ p: 1, kill: 'two-phase-pre-commit:2' }],
  [{ p: 1, kill: 'conformance-before-manifest:2' }],
  [{ p: 1, kill: 'checkpoint-before-commit:2' }, { p: 1, kill: 'two-phase-recover-commit:1' }],
  [{ p: 1, kill: 'two-phase-commit:2' }],
  [{ p: 1, kill: 'checkpoint-after-commit:3' }, { p: 1, kill: 'conformance-write:2' }],
]

/** The same with per-subtask writers, restarted at another parallelism. */
const RESCALES: Run[][] = [
  [{ p: 2, kill: 'checkpoint-before-commit:3' }, { p: 1 }],
  [{ p: 2, kill: 'conformance-write:7' }, { p: 1 }],
  [{ p: 3, kill: 'two-phase-pre-commit:8' }, { p: 1 }],
  [{ p: 1, kill: 'two-phase-commit:2' }, { p: 3 }],
  [{ p: 1, kill: 'conformance-before-manifest:3' }, { p: 3, kill: 'sink-commit:5' }, { p: 2 }],
]

/** Restoring an older checkpoint after a run that ended: its later committed output is discarded. Part files only. */
const OLDER: Run[][] = [
  [{ p: 2 }, { p: 1, restore: 3 }],
  [{ p: 1 }, { p: 3, restore: 2, kill: 'conformance-write:3' }, { p: 2, restore: 2 }],
]

const label = (runs: Run[]) => runs.map((r) => `p${r.p}${r.restore !== undefined ? ` from checkpoint ${r.restore}` : ''}${r.kill !== undefined ? ` killed at ${r.kill}` : ''}`).join(', then ')

/**
 * Registers the conformance tests of one sink case (see cases.ts).
 * @example sinkConformance('jsonl')
 */
export function sinkConformance(caseName: string): void {
  const c = CASES[caseName]
  describe(`sink conformance: ${c.name}`, () => {
    const all: Run[][] = [[{ p: 1 }], ...KILLS, ...(c.perSubtask ? [...RESCALES, ...(c.olderRestores === false ? [] : OLDER)] : [])]
    // An idempotent sink has no two-phase commit: the kills at its failpoints do not apply.
    const scenarios = c.idempotent === true ? all.filter((runs) => runs.every((r) => r.kill?.startsWith('two-phase-') !== true)) : all
    const skip = c.service === undefined ? false : serviceOrSkip(c.service).skip
    for (const runs of scenarios) {
      test(`${label(runs)}: every record exactly once`, { skip }, async () => {
        const dir = await mkdtemp(join(tmpdir(), `sluice-sink-conf-${caseName}-`))
        try {
          const all = runs[runs.length - 1].kill === undefined ? runs : [...runs, { p: runs[runs.length - 1].p }]
          for (const r of all) {
            const res = await runChild(caseName, dir, c.perSubtask ? r.p : 1, r.kill, r.restore)
            if (r.kill !== undefined) assert.equal(res.signal, 'SIGKILL', `the child was not killed at ${r.kill}: code ${res.code}\n${res.stderr}`)
            else assert.equal(res.code, 0, `the child failed: ${res.stderr}`)
          }
          const got = (await c.committed(dir)).sort((a, b) => a - b)
          assert.equal(got.length, COUNT, `${got.length} records committed, not ${COUNT}`)
          assert.deepEqual(got, Array.from({ length: COUNT }, (_, i) => i))
          assert.equal(await c.leftovers(dir), 0, 'output neither committed nor discarded is left')
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      })
    }
  })
}
