import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from './keys/local-keyring.ts'
import { protect } from './protect.ts'
import { mask, redact } from './transforms/mask.ts'
import { hash } from './transforms/hash.ts'
import { encrypt } from './transforms/encrypt.ts'

test('protect copies each record with the named fields transformed and the rest untouched', () => {
  const keys = LocalKeyring.openOrCreate(join(mkdtempSync(join(tmpdir(), 'sluice-protect-')), 'k.json'), randomBytes(32))
  const p = protect<{ id: number; email: string; card: string; phone?: string; birth: string }, { email: ReturnType<typeof hash>; card: ReturnType<typeof mask>; phone: ReturnType<typeof redact>; birth: ReturnType<typeof encrypt> }>({
    email: hash({ keys }),
    card: mask({ keepLast: 4 }),
    phone: redact(),
    birth: encrypt({ keys }),
  })
  const input = { id: 1, email: 'ada@example.com', card: '4111111111111234', birth: '1985-07-01' }
  const out = p(input)
  assert.deepEqual(input, { id: 1, email: 'ada@example.com', card: '4111111111111234', birth: '1985-07-01' }, 'the input is not changed')
  assert.equal(out.id, 1)
  assert.equal(out.card, '************1234')
  assert.equal((out.email as string).length, 43)
  assert.ok(!('phone' in out), 'a missing field stays missing')
  assert.ok(String(out.birth).startsWith('sl:enc:1:'))
  const d = p.describe()
  assert.deepEqual(Object.keys(d.fields), ['email', 'card', 'phone', 'birth'])
  assert.ok(!JSON.stringify(d).includes(keys.current().material.toString('base64')))
  assert.throws(() => p(null as never), /objects, got null/)
})

test('protect refuses a field without a transform, naming it', () => {
  assert.throws(() => protect({ email: {} as never }), /field 'email' needs a transform/)
})
