import { openStateFolder } from '../../checkpoint/open-folder.ts'
import { StateInspector, type StepStateSummary } from './state-inspect.ts'
import type { Command } from '../command.ts'
import { UsageError } from '../command.ts'
import { exitCode } from '../exit-codes.ts'

export const stateCommand: Command = {
  name: 'state',
  summary: 'show the state a checkpoint or savepoint holds: steps, keys per key group, one key',
  usage: 'sluice state <checkpoint-or-savepoint> [--step id] [--key k] [--json]',
  description: [
    'Reads a savepoint folder, one checkpoint folder (chk-…), or a checkpoint folder given to',
    '--checkpoint-dir (its newest complete checkpoint), without running the pipeline. Lists every step',
    'with state: its kind, state files and bytes, and for keyed steps the keys holding state. With',
    '--step, also the keys and serialized bytes of each key group. With --step and --key, prints what',
    'that key holds: as readState gives it (aggregates, process functions, windows, joins), then its',
    'windows, buffers, rows, states and timers, as the step saved them. A key is given as its text: a',
    'string key as it is, any other key as JSON (as the step emits it).',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the checkpoint or savepoint folder' },
  flags: [
    { name: 'step', type: 'string', placeholder: 'ID', description: 'only this step, with its key groups' },
    { name: 'key', type: 'string', placeholder: 'KEY', description: 'print the state of this key (needs --step)' },
    { name: 'json', type: 'boolean', description: 'print one JSON object instead of text' },
  ],
  examples: ['sluice state savepoints/before-upgrade', 'sluice state state/clicks --step window-1 --key eu'],

  async run({ values, positionals }, ctx) {
    const step = typeof values.step === 'string' ? values.step : undefined
    const key = typeof values.key === 'string' ? values.key : undefined
    if (key !== undefined && step === undefined) throw new UsageError('--key needs --step', 'state')
    const read = await openStateFolder(positionals[0], ctx.cwd)
    const inspector = new StateInspector(read)
    const m = read.manifest
    if (key !== undefined) {
      const k = inspector.key(step!, key)
      if (values.json === true) ctx.stdout.write(JSON.stringify(k, plain) + '\n')
      else {
        ctx.stdout.write(`step ${k.step}, key ${k.key} (key group ${k.group})\n`)
        // By name: the order a step filed its lists in is not part of its state.
        const lists = Object.entries(k.lists).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        if (lists.length === 0) ctx.stdout.write('  no state\n')
        else if (k.rows !== undefined) {
          ctx.stdout.write('  as readState gives it:\n')
          for (const r of k.rows) ctx.stdout.write(`    ${JSON.stringify(r, plain)}\n`)
          ctx.stdout.write('  as the step saved it:\n')
        }
        const indent = k.rows !== undefined ? '    ' : '  '
        for (const [list, entries] of lists) for (const e of entries) ctx.stdout.write(`${indent}${list}: ${JSON.stringify(e, plain)}\n`)
      }
      return exitCode.ok
    }
    const steps = inspector.summary(step)
    if (values.json === true) {
      ctx.stdout.write(JSON.stringify({ kind: m.kind, id: m.id, pipeline: m.pipeline, createdAt: m.createdAt, parallelism: m.parallelism, keyGroups: m.keyGroups, steps }) + '\n')
      return exitCode.ok
    }
    ctx.stdout.write(`${m.kind} ${m.id} of ${m.pipeline}, ${m.createdAt}: parallelism ${m.parallelism}, ${m.keyGroups} key groups\n`)
    for (const s of steps) ctx.stdout.write(line(s) + '\n')
    if (step !== undefined) for (const g of steps[0].groups ?? []) ctx.stdout.write(`  key group ${g.group}: ${g.keys} keys, ${g.bytes} bytes\n`)
    return exitCode.ok
  },
}

function line(s: StepStateSummary): string {
  const keys = s.keys === undefined ? (s.keyed ? 'keyed' : 'not keyed') : `${s.keys} keys in ${s.groups!.length} key groups`
  return `${s.step} (${s.kind}): ${keys}, ${s.files} state file${s.files === 1 ? '' : 's'}, ${s.bytes} bytes`
}

/** JSON for what snapshots hold: Maps and Sets as lists, bigints and non-finite numbers as text. */
function plain(_k: string, v: unknown): unknown {
  if (v instanceof Map) return [...v]
  if (v instanceof Set) return [...v]
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  return v
}
