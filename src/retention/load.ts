import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import { userError } from '../core/errors.ts'
import { resolvePolicy, type ResolvedPolicy, type RetentionPolicy } from './policy.ts'

/**
 * Reads and checks a retention policy file (YAML or JSON); `shownAs` names it in errors.
 * @example const policy = await readPolicyFile('/srv/retention.yaml', 'retention.yaml')
 */
export async function readPolicyFile(path: string, shownAs = path): Promise<ResolvedPolicy> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw userError('SLUICE_BAD_ARGUMENT', `cannot read the retention policy '${shownAs}'`)
  }
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch {
    throw userError('SLUICE_BAD_OPTION', `the retention policy '${shownAs}' is not valid YAML or JSON`)
  }
  return resolvePolicy(raw as RetentionPolicy)
}
