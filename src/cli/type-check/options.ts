import type ts from 'typescript'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The compiler options of a check and where they came from. */
export interface CheckConfig {
  options: ts.CompilerOptions
  /** The tsconfig.json used and those it extends; empty for the default options. */
  files: string[]
  /** Declaration files the tsconfig includes (global types the pipeline may rely on). */
  declarations: string[]
}

/** The nearest tsconfig.json in the pipeline's folder or above it, found without loading TypeScript. */
export function nearestTsconfig(pipelineFile: string): string | undefined {
  for (let dir = dirname(pipelineFile); ; dir = dirname(dir)) {
    const candidate = join(dir, 'tsconfig.json')
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/**
 * The options a pipeline is checked with: those of `tsconfig` (its `include` is ignored: the pipeline and
 * what it imports are checked even if the config does not list them), or, without one, strict options for
 * what Node runs (ESM, erasable TypeScript only). Never emits.
 */
export function checkConfig(t: typeof ts, tsconfig: string | undefined, pipelineFile?: string): CheckConfig {
  if (tsconfig === undefined) return { options: defaultOptions(t, pipelineFile === undefined || declaresType(pipelineFile)), files: [], declarations: [] }
  const json = t.readJsonConfigFile(tsconfig, t.sys.readFile)
  const parsed = t.parseJsonSourceFileConfigFileContent(json, t.sys, dirname(tsconfig), { noEmit: true }, tsconfig)
  return {
    options: { ...parsed.options, noEmit: true },
    files: [tsconfig, ...(json.extendedSourceFiles ?? [])],
    declarations: parsed.fileNames.filter((f) => /\.d\.[mc]?ts$/.test(f)),
  }
}

/**
 * Whether the nearest package.json above the pipeline says `"type"`. Without one (a lone file, or a package
 * that does not say), Node runs a file written with `import` as a module (syntax detection), while
 * TypeScript's NodeNext would take it for CommonJS: such files are checked as modules.
 */
export function declaresType(pipelineFile: string): boolean {
  for (let dir = dirname(pipelineFile); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        return typeof (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'string'
      } catch {
        return true
      }
    }
    if (dirname(dir) === dir) return false
  }
}

function defaultOptions(t: typeof ts, nodeNext: boolean): ts.CompilerOptions {
  return {
    target: t.ScriptTarget.ES2024,
    lib: ['lib.es2024.d.ts'],
    module: nodeNext ? t.ModuleKind.NodeNext : t.ModuleKind.ESNext,
    moduleResolution: nodeNext ? t.ModuleResolutionKind.NodeNext : t.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    skipLibCheck: true,
    isolatedModules: true,
  }
}
