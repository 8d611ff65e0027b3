// Builds what the published package runs: compiled JavaScript, .d.ts types and source maps in dist/.
// The repository itself runs the TypeScript sources directly; this is run by `npm pack` (prepack).
//
//   node scripts/build-package.ts          build dist/
//   node scripts/build-package.ts --pack   build dist/ and switch package.json to the build (prepack)
//   node scripts/build-package.ts --unpack put package.json back (postpack)
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))
const dist = join(root, 'dist')
const manifest = join(root, 'package.json')
// package.json as committed, kept aside while the packed one is in place.
const saved = join(root, '.package.source.json')

// Declared for the published package only: in the repository the pinned `node` dev dependency runs
// everything, and an `engines` field would make npm warn on every `npm run` under an older system Node.
const engines = { node: '>=22' }

type Exports = Record<string, string | Record<string, string>>

/** Compiles src/ into dist/ and makes the output loadable outside the repository. */
export function build(): void {
  rmSync(dist, { recursive: true, force: true })
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status})`)
  for (const file of walk(dist)) {
    if (file.endsWith('.js')) writeFileSync(file, rewriteModuleUrls(file, readFileSync(file, 'utf8')))
    else if (file.endsWith('.d.ts')) writeFileSync(file, rewriteDeclarationImports(readFileSync(file, 'utf8')))
  }
  // The control plane's dashboard is served as is, beside the compiled server.
  mkdirSync(join(dist, 'dashboard'), { recursive: true })
  for (const f of readdirSync(join(root, 'src', 'dashboard'))) copyFileSync(join(root, 'src', 'dashboard', f), join(dist, 'dashboard', f))
}

/**
 * `new URL('./worker.ts', import.meta.url)` names a module that the compiler does not see as an import
 * (a worker's entry): point it at the compiled file, and fail if that file was not built.
 */
export function rewriteModuleUrls(file: string, js: string): string {
  return js.replace(/new URL\((['"])(\.\.?\/[^'"]+)\.(m?)ts\1, import\.meta\.url\)/g, (_m, q: string, path: string, m: string) => {
    const target = `${path}.${m}js`
    if (!existsSync(resolve(dirname(file), target))) throw new Error(`${file}: ${target} was not built (add it to tsconfig.build.json)`)
    return `new URL(${q}${target}${q}, import.meta.url)`
  })
}

/** Relative `.ts` specifiers in declarations become `.js`, which every TypeScript setting resolves to the `.d.ts`. */
export function rewriteDeclarationImports(dts: string): string {
  return dts.replace(/((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\.(m?)ts\2/g, (_m, pre: string, q: string, path: string, m: string) => `${pre}${q}${path}.${m}js${q}`)
}

/** The package's exports with each `./src/x.ts` target replaced by the build: `{ types, default }`. */
export function packedExports(exports: Exports): Exports {
  const out: Exports = {}
  for (const [key, target] of Object.entries(exports)) {
    const m = typeof target === 'string' ? /^\.\/src\/(.+)\.ts$/.exec(target) : null
    out[key] = m === null ? target : { types: `./dist/${m[1]}.d.ts`, default: `./dist/${m[1]}.js` }
  }
  return out
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]))
}

function pack(): void {
  unpack() // a pack that failed half-way may have left the packed manifest in place
  build()
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Exports; engines?: unknown }
  copyFileSync(manifest, saved)
  pkg.exports = packedExports(pkg.exports)
  pkg.engines = engines
  writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n')
}

function unpack(): void {
  if (existsSync(saved)) renameSync(saved, manifest)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2]
  if (mode === '--pack') pack()
  else if (mode === '--unpack') unpack()
  else build()
}
