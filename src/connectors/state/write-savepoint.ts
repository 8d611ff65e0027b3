import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { SluiceError } from '../../core/errors.ts'
import { DEFAULT_KEY_GROUPS } from '../../core/key.ts'
import type { StateRow } from '../../core/operator.ts'
import type { LogicalGraph } from '../../plan/graph.ts'
import { MANIFEST_FORMAT, type Manifest } from '../../checkpoint/manifest.ts'
import { encodeState } from '../../checkpoint/state-file.ts'
import { sha256, writeCheckpointFolder } from '../../checkpoint/storage.ts'
import { BOOTSTRAP_KINDS, stateOperator } from './state-operator.ts'

/**
 * Where `writeSavepoint` (and `sink.savepoint`) writes, and for which step of which pipeline.
 * @example writeSavepoint([{ key: 'eu', value: 40 }], { pipeline: totals, step: 'totals', dir: 'savepoints/bootstrap' })
 */
export interface WriteSavepointOptions {
  /** The pipeline that will restore from the savepoint (its name and its step's configuration go into it). */
  pipeline: LogicalGraph
  /** The id of its keyed step whose state the rows are (give it a stable id with `.id('totals')`). */
  step: string
  /** A new folder for the savepoint; relative to the working directory. */
  dir: string
}

/**
 * Writes a savepoint holding `rows` as the state of one keyed step of `pipeline`: a new job restores from it
 * (`run(p, { checkpoint: { dir, restoreFrom } })`, `sluice run --restore-from`) and goes on from that state.
 * Rows are what readState gives: a keyed aggregate's accumulator as `value` (its first update then emits +I
 * with the result that continues from it), a process function's value states by name, a window's accumulator, a
 * join's records (see `StateRow`). The step's own operator
 * takes the rows and writes its snapshot, so the savepoint is the one its job would have written. Sources
 * start from their beginning.
 *
 * @experimental
 * @example
 * await writeSavepoint([{ key: 'eu', value: 40 }], { pipeline: totals, step: 'totals', dir: 'savepoints/bootstrap' })
 */
export async function writeSavepoint(rows: Iterable<StateRow> | AsyncIterable<StateRow>, options: WriteSavepointOptions): Promise<{ dir: string; keys: number; bytes: number }> {
  const { pipeline, step } = options
  const dir = resolve(options.dir)
  if (existsSync(dir)) throw new SluiceError('SLUICE_SAVEPOINT_EXISTS', `savepoint folder '${options.dir}' already exists`, { hint: 'choose a new folder for each savepoint' })
  const node = pipeline.nodes.find((n) => n.id === step)
  if (node === undefined) {
    const keyed = pipeline.nodes.filter((n) => n.impl.role === 'operator' && n.impl.keyed).map((n) => n.id)
    throw new SluiceError('SLUICE_STATE_BOOTSTRAP', `pipeline '${pipeline.name}' has no step '${step}'`, { step, hint: `its keyed steps: ${keyed.join(', ') || 'none'}` })
  }
  const impl = node.impl
  const operator = impl.role === 'operator' && impl.keyed ? stateOperator(pipeline.name, step, node.kind, impl.build) : undefined
  if (operator?.bootstrapState === undefined || operator.snapshot === undefined) {
    throw new SluiceError('SLUICE_STATE_BOOTSTRAP', `step '${step}' is of kind '${node.kind}', whose state the state API does not write`, { step, hint: `it writes the state of ${BOOTSTRAP_KINDS.join(', ')} steps` })
  }
  let keys = 0
  for await (const row of rows) {
    if (typeof row !== 'object' || row === null || !('key' in row)) throw new SluiceError('SLUICE_STATE_BOOTSTRAP', `step '${step}': a state row must be an object { key, value }`, { step })
    operator.bootstrapState(row)
    keys++
  }
  const parts = encodeState(operator.snapshot()).map((data, i) => ({ name: `${step}.0.${i}.state`, data: data.slice() }))
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    kind: 'savepoint',
    id: 1,
    pipeline: pipeline.name,
    createdAt: new Date().toISOString(),
    parallelism: 1,
    keyGroups: DEFAULT_KEY_GROUPS,
    sources: [],
    operators: [{ step, kind: node.kind, keyed: true, descriptor: node.describe, files: parts.map((p) => ({ subtask: 0, file: p.name, bytes: p.data.byteLength, sha256: sha256(p.data) })) }],
    sinks: [],
    vertices: [],
    metrics: [],
  }
  await mkdir(dirname(dir), { recursive: true })
  const bytes = await writeCheckpointFolder(dir, manifest, parts)
  return { dir, keys, bytes }
}
