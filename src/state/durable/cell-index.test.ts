import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CellIndex, type Indexed } from './cell-index.ts'

const slot = { no: 0 }
const cell = (ns: number, id: unknown): Indexed & { tag: string } => ({ slot, ns, id, at: -1, hot: false, tag: `${ns}/${String(id)}` })

test('cells are found by namespace and key, alone in their namespace or among others', () => {
  const ix = new CellIndex<ReturnType<typeof cell>>()
  const a = cell(0, 'a')
  const b = cell(0, 'b')
  const row = cell(7, 'a')
  const nan = cell(8, NaN)
  for (const c of [a, b, row, nan]) ix.add(c)
  assert.equal(ix.size, 4)
  assert.equal(ix.get(0, 0, 'a'), a)
  assert.equal(ix.get(0, 0, 'b'), b)
  assert.equal(ix.get(0, 7, 'a'), row)
  assert.equal(ix.get(0, 7, 'b'), undefined, 'a namespace of one cell is not any key of it')
  assert.equal(ix.get(0, 8, NaN), nan, 'NaN keys compare as Map keys do')
  assert.equal(ix.get(1, 0, 'a'), undefined)
  ix.delete(cell(7, 'a')) // another cell of the same place: not the one held
  assert.equal(ix.get(0, 7, 'a'), row)
  ix.delete(row)
  ix.delete(a)
  assert.equal(ix.get(0, 7, 'a'), undefined)
  assert.equal(ix.get(0, 0, 'a'), undefined)
  assert.equal(ix.get(0, 0, 'b'), b)
  assert.equal(ix.size, 2)
  const c = cell(7, 'c')
  ix.add(c)
  ix.add(cell(7, 'd'))
  assert.equal(ix.get(0, 7, 'c'), c, 'a second cell in a namespace of one')
  assert.equal(ix.get(0, 7, 'd')?.tag, '7/d')
})

test('eviction gives a cell used since the hand passed one more turn', () => {
  const ix = new CellIndex<ReturnType<typeof cell>>()
  const cells = [0, 1, 2, 3].map((i) => cell(i, 'k'))
  for (const c of cells) ix.add(c)
  cells[0].hot = true
  const out: string[] = []
  ix.evict(() => ix.size > 2, (e) => out.push(e.tag))
  assert.deepEqual(out, ['1/k', '2/k'])
  assert.equal(ix.get(0, 0, 'k'), cells[0])
  assert.equal(ix.get(0, 3, 'k'), cells[3])
})
