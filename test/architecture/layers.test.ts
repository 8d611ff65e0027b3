// The layers of src/ and the direction of imports between them (docs/architecture.md): a folder imports only
// from its own layer or the layers below it, and no module imports itself again through others. Imports are
// read from the source text; tests and test fixtures are left out.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('../../src/', import.meta.url))

/** Lowest first. `(root)` is src/index.ts. */
export const LAYERS: readonly (readonly string[])[] = [
  ['core', 'time'],
  ['plan'],
  ['state', 'log', 'observe'],
  ['checkpoint'],
  ['privacy'],
  ['operators', 'connectors', 'dlq'],
  ['contracts'],
  ['api'],
  ['lineage'],
  ['runtime'],
  ['server', 'workflow', 'catalog', 'retention'],
  ['testing', 'cli', '(root)'],
]

const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)))

interface Import {
  from: string
  to: string
  /** `import type` / `export type`: erased when the module runs, so it cannot take part in a load cycle. */
  typeOnly: boolean
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sources(p)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : []
  })
}

function imports(): Import[] {
  const out: Import[] = []
  for (const file of sources(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[3] ?? m[4]
      out.push({ from: relative(src, file), to: relative(src, resolve(dirname(file), spec)), typeOnly: m[2] !== undefined })
    }
  }
  return out
}

const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '(root)')

/** Every import that goes up a layer, as 'from -> to'. */
export function backwardImports(all: readonly Import[]): string[] {
  const bad: string[] = []
  for (const i of all) {
    const a = rank.get(folderOf(i.from))
    const b = rank.get(folderOf(i.to))
    if (a === undefined) bad.push(`${i.from}: folder '${folderOf(i.from)}' has no layer`)
    else if (b === undefined) bad.push(`${i.to}: folder '${folderOf(i.to)}' has no layer`)
    else if (b > a) bad.push(`${i.from} -> ${i.to}`)
  }
  return bad
}

/** The import cycles among modules, each as the list of its modules. */
export function cycles(all: readonly Import[]): string[][] {
  const edges = new Map<string, string[]>()
  for (const i of all) if (!i.typeOnly) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to])
  // Tarjan's strongly connected components: a component of more than one module is a cycle.
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        comp.push(w)
      } while (w !== v)
      if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(comp.sort())
    }
  }
  for (const v of edges.keys()) if (!idx.has(v)) visit(v)
  return found
}

test('the parser finds imports of every form the code uses', () => {
  const all = imports()
  assert.ok(all.length > 300)
  assert.ok(all.some((i) => i.from === 'index.ts' && i.to === 'api/pipeline.ts'))
  assert.ok(all.some((i) => i.typeOnly && i.from === 'api/keyed-stream.ts' && i.to === 'api/stream.ts'))
})

test('the checks catch a backward import and a cycle', () => {
  assert.deepEqual(backwardImports([{ from: 'core/a.ts', to: 'runtime/b.ts', typeOnly: true }]), ['core/a.ts -> runtime/b.ts'])
  const loop = [
    { from: 'api/a.ts', to: 'api/b.ts', typeOnly: false },
    { from: 'api/b.ts', to: 'api/a.ts', typeOnly: false },
  ]
  assert.deepEqual(cycles(loop), [['api/a.ts', 'api/b.ts']])
  assert.deepEqual(cycles([loop[0], { ...loop[1], typeOnly: true }]), [])
})

test('every folder of src/ has a layer, and imports only from its own layer or those below', () => {
  assert.deepEqual(backwardImports(imports()), [])
})

test('no import cycle among the modules of src/', () => {
  assert.deepEqual(cycles(imports()), [])
})
