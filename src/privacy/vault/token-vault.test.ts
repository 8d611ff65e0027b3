import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from '../keys/local-keyring.ts'
import { TokenVault } from './token-vault.ts'
import { tokenize } from '../transforms/tokenize.ts'
import { SluiceError } from '../../core/errors.ts'

test('a value gets one token, kept across reopening and key rotation, and detokenizes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-vault-'))
  const master = randomBytes(32)
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), master)
  const vault = TokenVault.open(join(dir, 'vault'), keys)
  const t = tokenize(vault)
  const a = t.apply('ada@example.com') as string
  assert.match(a, /^tok_[A-Za-z0-9_-]{22}$/)
  assert.equal(t.apply('ada@example.com'), a)
  assert.notEqual(t.apply('bob@example.com'), a)
  assert.equal(t.apply(null), null)
  await vault.close()
  keys.rotate('vault')
  const reopened = TokenVault.open(join(dir, 'vault'), LocalKeyring.open(join(dir, 'keyring.json'), master))
  assert.equal(reopened.tokenize('ada@example.com'), a)
  assert.equal(reopened.detokenize(a), 'ada@example.com')
  assert.equal(reopened.detokenize(reopened.tokenize(12345) as string), 12345)
  assert.throws(() => reopened.detokenize('tok_nope'), (e: unknown) => e instanceof SluiceError && e.code === 'SLUICE_TOKEN_UNKNOWN')
  await reopened.close()
  for (const f of readdirSync(join(dir, 'vault'))) assert.ok(!readFileSync(join(dir, 'vault', f)).includes('ada@example.com'), `${f} holds the value in the clear`)
})
