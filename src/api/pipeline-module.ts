import { SluiceError, userError } from '../core/errors.ts'
import { Pipeline } from './pipeline.ts'
import { Stream } from './stream.ts'

/**
 * What a pipeline factory receives: the `--param key=value` values of `sluice run`.
 * @example export default ({ params }: PipelineContext) => pipeline('copy').from(source.jsonl(params.input)).to(sink.jsonl(params.output))
 */
export interface PipelineContext {
  params: Record<string, string>
}

/**
 * The default export of a pipeline module may be a function that builds the pipeline from parameters.
 * @example export default (({ params }) => pipeline('copy').from(source.jsonl(params.input)).to(sink.jsonl(params.output))) satisfies PipelineFactory
 */
export type PipelineFactory = (ctx: PipelineContext) => Pipeline | Stream<any> | Promise<Pipeline | Stream<any>>

/**
 * Turns the default export of a pipeline module into a Pipeline: a Pipeline as is, a Stream's pipeline,
 * or the result of calling a factory with `params`. `file` names the module in error messages.
 */
export async function pipelineFromModule(mod: Record<string, unknown>, params: Record<string, string>, file: string): Promise<{ pipeline: Pipeline; factory: boolean }> {
  const hint = "export default a pipeline, a stream, or a function ({ params }) => pipeline, e.g. export default pipeline('name').from(…).to(…)"
  if (!('default' in mod) || mod.default === undefined) {
    throw userError('SLUICE_NO_DEFAULT_EXPORT', `'${file}' has no default export`, { hint })
  }
  const def = mod.default
  const factory = typeof def === 'function' && !(def.prototype instanceof Pipeline) && def !== Pipeline
  let value: unknown = def
  if (factory) {
    try {
      value = await (def as PipelineFactory)({ params: { ...params } })
    } catch (e) {
      throw buildError(e, file)
    }
  }
  const pipeline = value instanceof Pipeline ? value : value instanceof Stream ? value.pipeline : undefined
  if (pipeline === undefined) {
    const what = factory ? `the function it exports returned ${typeOf(value)}` : `its default export is ${typeOf(value)}`
    throw userError('SLUICE_BAD_DEFAULT_EXPORT', `'${file}' does not define a pipeline: ${what}`, { hint })
  }
  return { pipeline, factory }
}

/** An error thrown while building a pipeline, made to name the module it came from. */
export function buildError(e: unknown, file: string): SluiceError {
  if (e instanceof SluiceError) {
    return new SluiceError(e.code, `in '${file}': ${e.message}`, {
      domain: e.domain,
      retryable: e.retryable,
      ...(e.step !== undefined ? { step: e.step } : {}),
      ...(e.position !== undefined ? { position: e.position } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
    })
  }
  return userError('SLUICE_PIPELINE_BUILD_FAILED', `building the pipeline in '${file}' failed`, { cause: e })
}

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`
  return typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`
}
