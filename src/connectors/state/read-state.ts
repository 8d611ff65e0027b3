import { SluiceError } from '../../core/errors.ts'
import type { KeyedSnapshot, StateRow } from '../../core/operator.ts'
import { operatorStates } from '../../checkpoint/incremental.ts'
import { openStateFolder } from '../../checkpoint/open-folder.ts'
import { isKeyedSnapshot, redistributeKeyed } from '../../checkpoint/redistribute.ts'
import { decodeState } from '../../checkpoint/state-file.ts'
import { STATE_API_KINDS, stateOperator } from './state-operator.ts'

/**
 * Which step's state `readState` (and `source.state`) reads.
 * @example readState('savepoints/v1', { step: 'totals' })
 */
export interface ReadStateOptions {
  /** The id of the keyed step whose state to read (`sluice state <folder>` lists them). */
  step: string
  /** Relative folders are taken from here (default: the process's working directory). */
  cwd?: string
}

/**
 * The state of one keyed step in a savepoint or checkpoint (a folder with a manifest, or a checkpoint directory:
 * its newest complete checkpoint), as rows `{ key, value }`: a keyed aggregate's accumulator (with `result`, the
 * last one emitted), a process function's states by name, a window's accumulator (a row per open window, with
 * `window`), a join's kept records (see StateRow). The state is restored by the step's own operator, so every
 * format a job restores from reads here too.
 *
 * @experimental
 * @example
 * const rows = await readState('savepoints/v1', { step: 'totals' })
 * // [{ key: 'eu', value: 42, result: 42 }, ...]
 */
export async function readState(dir: string, options: ReadStateOptions): Promise<StateRow[]> {
  const read = await openStateFolder(dir, options.cwd)
  const m = read.manifest
  const op = m.operators.find((o) => o.step === options.step)
  if (op === undefined) {
    throw new SluiceError('SLUICE_STATE_SNAPSHOT', `no state for step '${options.step}' in ${m.kind} ${m.id} of '${m.pipeline}'`, {
      step: options.step,
      hint: `steps with state: ${m.operators.map((o) => o.step).join(', ') || 'none'}`,
    })
  }
  const operator = stateOperator(m.pipeline, op.step, op.kind)
  const states = operatorStates(op, (f) => decodeState(read.file(f)))
  if (operator?.stateRows === undefined || !op.keyed || !states.every(isKeyedSnapshot)) {
    throw new SluiceError('SLUICE_STATE_SNAPSHOT', `step '${op.step}' is a ${op.kind}, whose state the state API does not read as rows`, {
      step: op.step,
      hint: `it reads the state of ${STATE_API_KINDS.join(', ')} steps; sluice state <folder> --step ${op.step} --key <key> shows any step's state`,
    })
  }
  operator.restore!(redistributeKeyed(states as KeyedSnapshot[], 1, m.keyGroups)[0])
  return [...operator.stateRows()]
}
