import { test } from 'node:test'
import assert from 'node:assert/strict'
import { probeFields } from './field-probe.ts'

const plain = (r: ReturnType<typeof probeFields>) => ({ fields: Object.fromEntries(r.fields), indirect: r.indirect, passthrough: r.passthrough })

test('copies are identities, computed fields come from the fields that change them', () => {
  const r = probeFields((c: any) => ({ page: c.url, total: c.price * c.qty, label: `${c.name}`.toUpperCase() }), 1)
  assert.deepEqual(plain(r).fields, {
    page: [{ input: 0, path: 'url', identity: true }],
    total: [{ input: 0, path: 'price', identity: false }, { input: 0, path: 'qty', identity: false }],
    label: [{ input: 0, path: 'name', identity: false }],
  })
  assert.deepEqual(r.indirect, [])
})

test('a condition is an indirect read; nested paths are followed', () => {
  const r = probeFields((c: any) => ({ city: c.address.city, big: c.amount > 10 ? 'yes' : 'no' }), 1)
  assert.deepEqual(r.fields.get('city'), [{ input: 0, path: 'address.city', identity: true }])
  // amount changes the output only across the threshold: the probe sees it read but not change `big`
  assert.deepEqual(r.fields.get('big'), [])
  assert.deepEqual(r.indirect, [{ input: 0, path: 'amount' }])
})

test('a spread passes the record through; known fields are copied one by one', () => {
  assert.deepEqual(probeFields((c: any) => ({ ...c, extra: 1 }), 1).passthrough, [0])
  const known = probeFields((c: any) => ({ ...c, extra: 1 }), 1, [['a', 'b']])
  assert.deepEqual(known.passthrough, [])
  assert.deepEqual(known.fields.get('b'), [{ input: 0, path: 'b', identity: true }])
  assert.deepEqual(known.fields.get('extra'), [])
  assert.deepEqual(probeFields((c: any) => c, 1).passthrough, [0])
})

test('two inputs (a join) are told apart', () => {
  const r = probeFields((b: any, a: any) => ({ bid: b.id, seller: a.seller, price: b.price + a.reserve }), 2)
  assert.deepEqual(r.fields.get('seller'), [{ input: 1, path: 'seller', identity: true }])
  assert.deepEqual(r.fields.get('price'), [{ input: 0, path: 'price', identity: false }, { input: 1, path: 'reserve', identity: false }])
})

test('a key function: its output is the whole value; conditions short-circuit', () => {
  assert.deepEqual(probeFields((c: any) => c.country, 1).fields.get(''), [{ input: 0, path: 'country', identity: true }])
  const r = probeFields((c: any) => c.country === 'fr' && c.age >= 18, 1)
  assert.deepEqual(r.fields.get(''), [])
  assert.deepEqual(r.indirect, [{ input: 0, path: 'country' }])
})
