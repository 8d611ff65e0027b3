import { pathToFileURL } from 'node:url'
import { userError } from '../../core/errors.ts'
import { WorkflowBuilder, type Workflow } from '../../workflow/workflow.ts'
import { resolvePipelineFile } from '../load-pipeline.ts'

/** Loads a workflow module: its default export is a workflow, built or not. */
export async function loadWorkflow(file: string, cwd: string): Promise<Workflow> {
  const abs = resolvePipelineFile(file, cwd)
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>
  } catch (e) {
    throw userError('SLUICE_PIPELINE_LOAD_FAILED', `cannot load workflow module '${file}'`, { cause: e, hint: "check its syntax and imports ('sluice check' lists type errors)" })
  }
  const d = mod.default
  if (d instanceof WorkflowBuilder) return d.build()
  if (typeof d === 'object' && d !== null && 'tasks' in d && 'partitions' in d && 'name' in d) return d as Workflow
  throw userError('SLUICE_NO_DEFAULT_EXPORT', `'${file}' does not default-export a workflow`, { hint: "end it with: export default workflow('name').task(...)" })
}
