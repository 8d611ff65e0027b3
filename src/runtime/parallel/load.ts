import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Pipeline } from '../../api/pipeline.ts'
import { userError } from '../../core/errors.ts'

/** A module path or URL as an absolute URL that any thread can import. */
export function moduleUrl(module: string): string {
  if (/^(file|data|https?):/.test(module)) return module
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href
}

/** Imports a pipeline module: its default export is a Pipeline, a Stream of one, or a function returning either. */
export async function loadPipeline(module: string): Promise<Pipeline> {
  let mod: { default?: unknown }
  try {
    mod = (await import(moduleUrl(module))) as { default?: unknown }
  } catch (e) {
    throw userError('SLUICE_MODULE_LOAD_FAILED', `could not load pipeline module '${module}': ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
  let value = mod.default
  if (typeof value === 'function') value = await (value as () => unknown)()
  if (isStreamLike(value)) value = value.pipeline
  if (!isPipelineLike(value)) {
    throw userError('SLUICE_MODULE_NO_PIPELINE', `module '${module}' has no pipeline as its default export`, {
      hint: 'export default the pipeline, a stream of it, or a function that builds it',
    })
  }
  return value
}

function isPipelineLike(v: unknown): v is Pipeline {
  return typeof v === 'object' && v !== null && Array.isArray((v as Pipeline).nodes) && typeof (v as Pipeline).name === 'string' && typeof (v as Pipeline).options === 'object'
}

function isStreamLike(v: unknown): v is { pipeline: Pipeline } {
  return typeof v === 'object' && v !== null && 'pipeline' in v && 'node' in v && isPipelineLike((v as { pipeline: unknown }).pipeline)
}
