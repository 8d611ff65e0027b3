import type ts from 'typescript'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { sluiceVersion } from '../commands/version.ts'
import { CheckCache, sha256 } from './cache.ts'
import { checkConfig, declaresType, nearestTsconfig } from './options.ts'

const sluiceSources = fileURLToPath(new URL('../../', import.meta.url))

/** What a type check of a pipeline found. */
export interface CheckResult {
  /** One line per problem: `file:line:col - error TS2339: message`, paths relative to the current folder. */
  errors: string[]
  /** The tsconfig.json whose options were used, relative to the current folder; undefined for the defaults. */
  tsconfig: string | undefined
  /** True when an earlier check of the same files and options passed, so nothing was checked again. */
  cached: boolean
}

/**
 * Type-checks a pipeline module and the modules it imports with the TypeScript compiler, the way `tsc
 * --noEmit` would, whether or not a tsconfig lists the file. A pipeline that passed is remembered by the
 * hashes of its files and configs, so checking it again unchanged does not even load the compiler.
 */
export async function checkPipelineTypes(abs: string, cwd: string, env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const tsconfigPath = nearestTsconfig(abs)
  const tsconfig = tsconfigPath === undefined ? undefined : relative(cwd, tsconfigPath)
  const compiler = typescriptPath(cwd)
  const key = sha256(JSON.stringify([compilerVersion(compiler), sluiceVersion(), tsconfigPath ?? (declaresType(abs) ? 'defaults' : 'defaults-esm')]))
  const cache = new CheckCache(env)
  if (cache.passed(abs, key)) return { errors: [], tsconfig, cached: true }

  const t = ((await import(pathToFileURL(compiler).href)) as { default: typeof ts }).default
  const config = checkConfig(t, tsconfigPath, abs)
  const program = t.createProgram({ rootNames: [abs, ...config.declarations], options: config.options })
  const own = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/') && !program.isSourceFileDefaultLibrary(f))
  // Sluice's own sources (when it runs from them) are checked by its own build, not with each pipeline.
  const user = own.filter((f) => !f.fileName.startsWith(sluiceSources))
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...user.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ].filter((d) => d.category === t.DiagnosticCategory.Error)
  const errors = diagnostics.map((d) => formatDiagnostic(t, d, cwd))
  if (errors.length === 0) cache.remember(abs, key, [...config.files, ...own.map((f) => f.fileName)])
  return { errors, tsconfig, cached: false }
}

/** `file:line:col - error TSnnnn: message`, the details of a chained message on indented lines. */
export function formatDiagnostic(t: typeof ts, d: ts.Diagnostic, cwd: string): string {
  const message = t.flattenDiagnosticMessageText(d.messageText, '\n    ')
  if (d.file === undefined || d.start === undefined) return `error TS${d.code}: ${message}`
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  return `${relative(cwd, d.file.fileName)}:${line + 1}:${character + 1} - error TS${d.code}: ${message}`
}

/** The project's own TypeScript if it has one (the version its editor shows), else the one Sluice depends on. */
function typescriptPath(cwd: string): string {
  try {
    return createRequire(join(cwd, 'package.json')).resolve('typescript')
  } catch {
    return createRequire(import.meta.url).resolve('typescript')
  }
}

function compilerVersion(main: string): string {
  // typescript/lib/typescript.js -> typescript/package.json
  const pkg = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }
  return pkg.version
}
