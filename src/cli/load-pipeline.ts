import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Pipeline } from '../api/pipeline.ts'
import { buildError, pipelineFromModule } from '../api/pipeline-module.ts'
import { userError } from '../core/errors.ts'
import { syntaxLocation } from './syntax-location.ts'

export interface LoadedPipeline {
  pipeline: Pipeline
  /** The module's file URL (what worker threads load). */
  url: string
  /** The path as the user gave it, for messages. */
  file: string
  /** Whether the default export was a factory (so `--param` values were used). */
  factory: boolean
}

/** The absolute path of a pipeline module given relative to `cwd`; a user error if it is missing or not a module. */
export function resolvePipelineFile(file: string, cwd: string): string {
  const abs = resolve(cwd, file)
  const st = statSync(abs, { throwIfNoEntry: false })
  if (st === undefined) throw userError('SLUICE_PIPELINE_NOT_FOUND', `pipeline file '${file}' does not exist`, { hint: `the path is resolved from the current folder (${cwd})` })
  if (!st.isFile()) throw userError('SLUICE_PIPELINE_NOT_FOUND', `'${file}' is not a file`, { hint: 'give the path of a .ts module that default-exports a pipeline' })
  if (!/\.(ts|mts|js|mjs)$/.test(abs)) {
    throw userError('SLUICE_PIPELINE_NOT_A_MODULE', `'${file}' is not a pipeline module`, { hint: 'give the path of a .ts (or .js) module that default-exports a pipeline; data files are read by the pipeline\'s sources' })
  }
  if (/\.m?ts$/.test(abs) && !process.features.typescript) {
    throw userError('SLUICE_PIPELINE_LOAD_FAILED', `cannot load pipeline module '${file}': this Node (${process.versions.node}) does not run TypeScript`, {
      hint: 'use Node 22.18 or later (type stripping is on by default there), or set NODE_OPTIONS=--experimental-strip-types',
    })
  }
  return abs
}

/**
 * Imports a pipeline module (path relative to `cwd`) and builds its pipeline. A missing file, a module
 * that cannot load, a bad default export or a throw while building are user errors naming the file.
 */
export async function loadPipeline(file: string, params: Record<string, string>, cwd: string): Promise<LoadedPipeline> {
  const abs = resolvePipelineFile(file, cwd)
  const url = pathToFileURL(abs).href
  let mod: Record<string, unknown>
  try {
    mod = (await import(url)) as Record<string, unknown>
  } catch (e) {
    throw e instanceof SyntaxError ? await syntaxError(e, file, abs, cwd) : loadError(e, file)
  }
  const { pipeline, factory } = await pipelineFromModule(mod, params, file)
  return { pipeline, url, file, factory }
}

/** A module that does not parse: the error names file:line:col (of the pipeline or of a module it imports). */
async function syntaxError(e: SyntaxError, file: string, abs: string, cwd: string): Promise<Error> {
  const at = await syntaxLocation(e, abs, cwd)
  const erasable = 'code' in e && e.code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX'
  return userError('SLUICE_PIPELINE_LOAD_FAILED', `cannot load pipeline module '${file}': ${at !== undefined ? `${at}: ` : ''}${e.message}`, {
    hint: erasable
      ? 'pipeline modules run with Node type stripping: use erasable TypeScript only (no enums, namespaces or parameter properties)'
      : `fix the syntax ('sluice check ${file}' lists every error)`,
  })
}

function loadError(e: unknown, file: string): Error {
  const code = e instanceof Error && 'code' in e ? String(e.code) : ''
  if (code === 'ERR_MODULE_NOT_FOUND') {
    return userError('SLUICE_PIPELINE_LOAD_FAILED', `cannot load pipeline module '${file}'`, { cause: e, hint: "check its imports; import Sluice as 'sluice' from inside the project" })
  }
  // Anything else was thrown by the module's own top-level code, i.e. while building the pipeline.
  return buildError(e, file)
}
