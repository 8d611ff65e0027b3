// The API reference: every export of the package's entry points (`sluice` is src/index.ts; `sluice/testing`,
// `sluice/workflow` and `sluice/cli` the others in package.json `exports`), the members of their classes and of
// the namespace objects (source, sink, agg, window, trigger, watermark, and any other exported object of
// functions: privacy, lookup, expect), with their TSDoc. One walk gives docs/api.md (and docs/api-<entry>.md
// for the others) and the tests that fail on an export without documentation or without an example.
//
//   node scripts/api-reference.ts    rewrite docs/api.md and docs/api-*.md
import ts from 'typescript'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../', import.meta.url))

/** One documented thing: an export, or a member of one. */
export interface ApiEntry {
  /** `pipeline`, `Stream.map`, `source.csv`. */
  name: string
  kind: 'function' | 'class' | 'interface' | 'type' | 'namespace' | 'method' | 'property' | 'variable'
  /** Signature or declaration, as TypeScript prints it. */
  signature: string
  /** The TSDoc text ('' when missing). */
  doc: string
  examples: string[]
  /** Where it is declared, relative to the repository. */
  file: string
  members: ApiEntry[]
}

const namespaces = new Set(['source', 'sink', 'agg', 'window', 'trigger', 'watermark'])

/** An exported object of functions (`privacy`, `lookup`, `expect`): documented member by member, as a namespace. */
function isNamespaceObject(checker: ts.TypeChecker, sym: ts.Symbol, decl: ts.Declaration): boolean {
  // A value declared with a type (`systemWorkflowClock: WorkflowClock`) is an object, not a namespace.
  if (!ts.isVariableDeclaration(decl) || decl.type !== undefined || decl.initializer === undefined || !ts.isObjectLiteralExpression(decl.initializer)) return false
  const props = checker.getTypeOfSymbolAtLocation(sym, decl).getProperties()
  return props.length > 0 && props.every((p) => checker.getTypeOfSymbolAtLocation(p, decl).getCallSignatures().length > 0)
}

/** One entry point of the package: what a user imports, the module behind it, and its page of the reference. */
export interface EntryPoint {
  /** `sluice`, `sluice/testing`. */
  specifier: string
  /** The TypeScript module, relative to the repository: `src/index.ts`. */
  file: string
  /** Its page, relative to the repository: `docs/api.md`, `docs/api-testing.md`. */
  page: string
}

/** The entry points in package.json `exports` that name a TypeScript module, `sluice` first. */
export function entryPoints(): EntryPoint[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> }
  const out: EntryPoint[] = []
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target !== 'string' || !/^\.\/src\/.+\.ts$/.test(target)) continue
    const sub = key === '.' ? '' : key.slice(2)
    out.push({ specifier: sub === '' ? pkg.name : `${pkg.name}/${sub}`, file: target.slice(2), page: sub === '' ? 'docs/api.md' : `docs/api-${sub.replaceAll('/', '-')}.md` })
  }
  return out.sort((a, b) => (a.page === 'docs/api.md' ? -1 : b.page === 'docs/api.md' ? 1 : a.specifier.localeCompare(b.specifier)))
}

/** A program over the given modules, to walk their exports with. */
function programOf(files: string[]): ts.Program {
  return ts.createProgram(files, { target: ts.ScriptTarget.ES2024, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, strict: true, types: ['node'] })
}

/** The exports of one module (`program`, when given, must include it: one program serves every entry point). */
export function collectApi(entry = join(root, 'src', 'index.ts'), program = programOf([entry])): ApiEntry[] {
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
  const resolveAlias = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)
  const out: ApiEntry[] = []
  for (const exp of checker.getExportsOfModule(mod)) {
    const sym = resolveAlias(exp)
    const decl = sym.declarations?.[0]
    if (decl === undefined) continue
    const name = exp.name
    const e = describe(checker, sym, name, decl)
    if (namespaces.has(name) || isNamespaceObject(checker, sym, decl)) {
      e.kind = 'namespace'
      e.signature = ''
      const type = checker.getTypeOfSymbolAtLocation(sym, decl)
      for (const p of type.getProperties()) e.members.push(namespaceMember(checker, p, `${name}.${p.name}`))
    } else if (ts.isClassDeclaration(decl)) {
      for (const m of decl.members) {
        const mods = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : []
        if (mods.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword)) continue
        if (m.name !== undefined && ts.isPrivateIdentifier(m.name)) continue
        if (!(ts.isMethodDeclaration(m) || ts.isPropertyDeclaration(m) || ts.isGetAccessorDeclaration(m) || ts.isConstructorDeclaration(m))) continue
        if (ts.isConstructorDeclaration(m)) continue
        const ms = (m as ts.NamedDeclaration).name !== undefined ? checker.getSymbolAtLocation((m as ts.NamedDeclaration).name!) : undefined
        if (ms === undefined || e.members.some((x) => x.name === `${name}.${ms.name}`)) continue
        if (ms.getJsDocTags(checker).some((t) => t.name === 'internal')) continue
        e.members.push(describe(checker, ms, `${name}.${ms.name}`, m))
      }
    }
    out.push(e)
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

function namespaceMember(checker: ts.TypeChecker, p: ts.Symbol, name: string): ApiEntry {
  // `{ csv }` and `{ log: logSource }`: the documentation is on the function the property names.
  const decl = p.declarations?.[0]
  let target: ts.Symbol | undefined
  if (decl !== undefined && ts.isShorthandPropertyAssignment(decl)) target = checker.getShorthandAssignmentValueSymbol(decl)
  else if (decl !== undefined && ts.isPropertyAssignment(decl) && ts.isIdentifier(decl.initializer)) target = checker.getSymbolAtLocation(decl.initializer)
  if (target !== undefined && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target)
  const sym = target ?? p
  const e = describe(checker, sym, name, sym.declarations?.[0] ?? decl!)
  if (e.doc === '' && target !== undefined) {
    const own = describe(checker, p, name, decl!)
    e.doc = own.doc
    e.examples = own.examples
  }
  return e
}

function describe(checker: ts.TypeChecker, sym: ts.Symbol, name: string, decl: ts.Declaration): ApiEntry {
  const doc = ts.displayPartsToString(sym.getDocumentationComment(checker)).trim()
  const examples = sym.getJsDocTags(checker).filter((t) => t.name === 'example').map((t) => ts.displayPartsToString(t.text).trim())
  const file = resolve(decl.getSourceFile().fileName).slice(root.length)
  let kind: ApiEntry['kind'] = 'variable'
  let signature = ''
  const type = checker.getTypeOfSymbolAtLocation(sym, decl)
  if (ts.isFunctionDeclaration(decl) || ts.isMethodDeclaration(decl)) {
    kind = ts.isMethodDeclaration(decl) ? 'method' : 'function'
    signature = type.getCallSignatures().map((s) => `${name.split('.').at(-1)}${checker.signatureToString(s)}`).join('\n')
  } else if (ts.isClassDeclaration(decl)) {
    kind = 'class'
    signature = `class ${name}`
  } else if (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl)) {
    kind = ts.isInterfaceDeclaration(decl) ? 'interface' : 'type'
    signature = declarationText(decl)
  } else if (ts.isPropertyDeclaration(decl) || ts.isGetAccessorDeclaration(decl) || ts.isPropertySignature(decl)) {
    kind = 'property'
    signature = `${name.split('.').at(-1)}: ${checker.typeToString(type)}`
  } else {
    const calls = type.getCallSignatures()
    kind = calls.length > 0 ? 'function' : 'variable'
    signature = calls.length > 0 ? calls.map((s) => `${name.split('.').at(-1)}${checker.signatureToString(s)}`).join('\n') : `${name}: ${checker.typeToString(type)}`
  }
  return { name, kind, signature, doc, examples, file, members: [] }
}

/** An interface or type as written, without its comments. */
function declarationText(decl: ts.Declaration): string {
  const printer = ts.createPrinter({ removeComments: true })
  return printer.printNode(ts.EmitHint.Unspecified, decl, decl.getSourceFile()).replace(/^export /, '')
}

/** Every entry, members included, that has no documentation. */
export function undocumented(entries: ApiEntry[]): string[] {
  return entries.flatMap((e) => [...(e.doc === '' ? [e.name] : []), ...e.members.filter((m) => m.doc === '').map((m) => m.name)])
}

/**
 * The reference page of one entry point (docs/api.md for `sluice` by default); `others` are linked from the
 * page of `sluice`.
 */
export function renderMarkdown(entries: ApiEntry[], entry: EntryPoint = { specifier: 'sluice', file: 'src/index.ts', page: 'docs/api.md' }, others: EntryPoint[] = []): string {
  const main = entry.page === 'docs/api.md'
  const lines = [main ? '# API reference' : `# API reference: ${entry.specifier}`, '', `Generated from the TSDoc of \`${entry.file}\` by \`npm run api-docs\`; do not edit by hand.`, '']
  if (main && others.length > 0) {
    lines.push(`The package's other entry points: ${others.map((o) => `[\`${o.specifier}\`](${o.page.slice('docs/'.length)})`).join(', ')}.`, '')
  } else if (!main) {
    lines.push(`\`import { … } from '${entry.specifier}'\`. The main entry point, \`sluice\`, is in [api.md](api.md).`, '')
  }
  // Headings get anchors as Markdown renderers make them: a repeated one (pipeline, Pipeline) gets `-1`.
  const seen = new Map<string, number>()
  const anchorOf = new Map<ApiEntry, string>()
  for (const e of entries) {
    for (const x of [e, ...e.members]) {
      const base = anchor(x.name)
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      anchorOf.set(x, n === 0 ? base : `${base}-${n}`)
    }
  }
  lines.push('| name | kind | summary |', '|---|---|---|')
  for (const e of entries) lines.push(`| [\`${e.name}\`](#${anchorOf.get(e)}) | ${e.kind} | ${firstSentence(e.doc)} |`)
  lines.push('')
  for (const e of entries) {
    lines.push(`## ${e.name}`, '', ...entryBody(e))
    for (const m of e.members) lines.push(`### ${m.name}`, '', ...entryBody(m))
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n'
}

function entryBody(e: ApiEntry): string[] {
  const out: string[] = []
  if (e.signature !== '') out.push('```ts', e.signature, '```', '')
  if (e.doc !== '') out.push(e.doc, '')
  for (const ex of e.examples) out.push(ex.startsWith('```') ? ex : ['```ts', ex, '```'].join('\n'), '')
  out.push(`<sub>${e.file}</sub>`, '')
  return out
}

function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')
}

function firstSentence(doc: string): string {
  const para = doc.split(/\n\s*\n/)[0].replace(/\s+/g, ' ')
  const m = /^(.*?[.!?])(\s|$)/.exec(para)
  return (m ? m[1] : para).replace(/\|/g, '\\|')
}

/** The API of every entry point. */
export function collectAll(): Map<EntryPoint, ApiEntry[]> {
  const points = entryPoints()
  const program = programOf(points.map((e) => join(root, e.file)))
  return new Map(points.map((e) => [e, collectApi(join(root, e.file), program)]))
}

/** Every page of the reference, by its path relative to the repository. */
export function renderPages(all = collectAll()): Map<string, string> {
  const points = [...all.keys()]
  const pages = new Map<string, string>()
  for (const [e, entries] of all) pages.set(e.page, renderMarkdown(entries, e, points.filter((o) => o !== e)))
  return pages
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [page, text] of renderPages()) writeFileSync(join(root, page), text)
}
