import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/**
 * Where a module failed to parse, as `file:line:col` relative to `cwd`. Node puts the location of a
 * TypeScript syntax error at the top of the stack (`file:///p.ts:3` and the line with a caret under the
 * column); for a JavaScript one it keeps it to itself, so the pipeline file is parsed again to find it.
 */
export async function syntaxLocation(e: SyntaxError, pipelineFile: string, cwd: string): Promise<string | undefined> {
  const m = /^(file:\/\/[^\n]+):(\d+)\n[^\n]*\n( *)\^/.exec(e.stack ?? '')
  if (m !== null) return `${relative(cwd, fileURLToPath(m[1]))}:${m[2]}:${m[3].length + 1}`
  try {
    const path = createRequire(import.meta.url).resolve('typescript')
    const t = ((await import(pathToFileURL(path).href)) as { default: typeof import('typescript') }).default
    const source = t.createSourceFile(pipelineFile, readFileSync(pipelineFile, 'utf8'), t.ScriptTarget.Latest, false, /\.m?ts$/.test(pipelineFile) ? t.ScriptKind.TS : t.ScriptKind.JS)
    const d = (source as unknown as { parseDiagnostics?: { start: number }[] }).parseDiagnostics?.[0]
    if (d === undefined) return undefined
    const { line, character } = source.getLineAndCharacterOfPosition(d.start)
    return `${relative(cwd, pipelineFile)}:${line + 1}:${character + 1}`
  } catch {
    return undefined
  }
}
