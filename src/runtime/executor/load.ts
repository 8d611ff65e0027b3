import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Pipeline } from '../../api/pipeline.ts'
import { buildError, pipelineFromModule } from '../../api/pipeline-module.ts'
import { userError } from '../../core/errors.ts'

/** A module path or URL as an absolute URL that any thread can import. */
export function moduleUrl(module: string): string {
  if (/^(file|data):/.test(module)) return module
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href
}

/**
 * Imports a pipeline module in a worker and builds its pipeline the way the main thread did: its default
 * export is a Pipeline, a Stream of one, or a factory called with the same `params`.
 */
export async function loadPipeline(module: string, params: Record<string, string>): Promise<Pipeline> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(moduleUrl(module))) as Record<string, unknown>
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_')) {
      throw userError('SLUICE_PIPELINE_LOAD_FAILED', `cannot load pipeline module '${module}' in a worker thread`, { cause: e })
    }
    throw buildError(e, module)
  }
  return (await pipelineFromModule(mod, params, module)).pipeline
}
