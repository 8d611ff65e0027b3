import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { userError } from '../../core/errors.ts'
import type { Command } from '../command.ts'
import { exitCode } from '../exit-codes.ts'
import { projectFiles } from '../init/templates.ts'
import { sluiceVersion } from './version.ts'

export const initCommand: Command = {
  name: 'init',
  summary: 'create a project: a pipeline over sample data, its test, package.json and tsconfig',
  usage: 'sluice init <folder>',
  description: [
    'Creates <folder> (or fills it if it is empty) with a project that depends on Sluice: pipeline.ts',
    '(revenue per country and hour over data/orders.csv), test/pipeline.test.ts, package.json,',
    'tsconfig.json and a README. Then: cd <folder>; npm install; npx sluice run pipeline.ts; npm test.',
  ].join('\n'),
  positionals: { min: 1, max: 1, names: 'the folder to create (sluice init <folder>)' },
  flags: [],
  examples: ['sluice init my-pipelines'],

  async run({ positionals }, ctx) {
    const folder = positionals[0]
    const dir = resolve(ctx.cwd, folder)
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw userError('SLUICE_INIT_NOT_EMPTY', `'${folder}' exists and is not empty`, { hint: 'give a new folder, or an empty one' })
    }
    const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'pipelines'
    for (const [path, text] of Object.entries(projectFiles(name, sluiceVersion()))) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    const cd = relative(ctx.cwd, dir) || '.'
    ctx.stdout.write(`created ${cd}: pipeline.ts, data/orders.csv, test/pipeline.test.ts, package.json, tsconfig.json, README.md\n\nnext:\n  cd ${cd}\n  npm install\n  npx sluice run pipeline.ts\n  npm test\n`)
    return exitCode.ok
  },
}
