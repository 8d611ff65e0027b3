import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { LocalKeyring, contract, pipeline, run, sink, source, withContract } from '../../src/index.ts'

const filesUnder = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]))

test('dead letters keep the personal fields of the contract encrypted at rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-pii-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const MARKER = 'MARKER-PII-4242'
  const people = contract({ name: 'people', personal: ['email'], schema: z.object({ id: z.number(), email: z.string(), age: z.number().min(0) }) })
  writeFileSync(join(dir, 'in.jsonl'), [`{"id":1,"email":"${MARKER}-a","age":30}`, `{"id":2,"email":"${MARKER}-b","age":-1}`, `not json ${MARKER}-c`].join('\n') + '\n')
  const p = pipeline('people', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log'), personalKeys: keys } })
  p.from(withContract(source.jsonl(join(dir, 'in.jsonl')), people)).to(sink.jsonl(join(dir, 'out.jsonl')))
  const summary = await run(p)
  assert.equal(summary.errors, 2)
  for (const f of filesUnder(join(dir, 'log'))) assert.ok(!readFileSync(f).includes(MARKER), `personal value in clear in ${f}`)
  const text = filesUnder(join(dir, 'log')).map((f) => readFileSync(f, 'latin1')).join('')
  assert.match(text, /"recordEncrypted":"fields"/)
  assert.match(text, /"recordEncrypted":"whole"/)
  assert.match(text, /sl:enc:1:/)
})

test('key rotation re-encrypts the personal fields of stored dead letters in place, offsets kept', async () => {
  const { readDeadLetters } = await import('../../src/dlq/reader.ts')
  const { reencryptDeadLetters } = await import('../../src/dlq/rotate.ts')
  const { ciphertextKeyId, decryptValue } = await import('../../src/privacy/transforms/encrypt.ts')
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-rotate-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const MARKER = 'MARKER-PII-5151'
  const people = contract({ name: 'people', personal: ['email'], schema: z.object({ id: z.number(), email: z.string(), age: z.number().min(0) }) })
  writeFileSync(join(dir, 'in.jsonl'), [`{"id":1,"email":"${MARKER}-a","age":-1}`, `{"id":2,"email":"${MARKER}-b","age":-2}`, `not json ${MARKER}-c`].join('\n') + '\n')
  const p = pipeline('people', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log'), personalKeys: keys } })
  p.from(withContract(source.jsonl(join(dir, 'in.jsonl')), people)).to(sink.jsonl(join(dir, 'out.jsonl')))
  await run(p)
  const ciphertexts = (letters: { record: unknown }[]): string[] => JSON.stringify(letters.map((l) => l.record)).match(/sl:enc:1:[^"\\]+/g) ?? []
  const before = await readDeadLetters(join(dir, 'log'), 'people.dlq')
  assert.equal(before.length, 3)
  const oldKey = keys.current('default').id
  assert.ok(ciphertexts(before).every((c) => ciphertextKeyId(c) === oldKey))

  const newKey = keys.rotate('default')
  const r = await reencryptDeadLetters(join(dir, 'log'), keys)
  assert.deepEqual({ topics: r.topics, letters: r.letters, reencrypted: r.reencrypted }, { topics: 1, letters: 3, reencrypted: 3 })
  const after = await readDeadLetters(join(dir, 'log'), 'people.dlq')
  assert.deepEqual(after.map((l) => l.offset), before.map((l) => l.offset), 'offsets kept')
  const fresh = ciphertexts(after)
  assert.equal(fresh.length, 3)
  assert.ok(fresh.every((c) => ciphertextKeyId(c) === newKey), 'every ciphertext under the new key')
  assert.deepEqual(fresh.map((c) => String(decryptValue(keys, c))), ciphertexts(before).map((c) => String(decryptValue(keys, c))), 'the same values')
  assert.deepEqual(after.map((l) => ({ ...l, record: undefined })), before.map((l) => ({ ...l, record: undefined })), 'the rest of each letter unchanged')
  for (const f of filesUnder(join(dir, 'log'))) assert.ok(!readFileSync(f).includes(MARKER), `personal value in clear in ${f}`)
  assert.equal((await reencryptDeadLetters(join(dir, 'log'), keys)).reencrypted, 0, 'nothing left under the old key')
})

test("a user function's error message, which may quote the record, is encrypted in its dead letter and renewed by rotation", async () => {
  const { readDeadLetters } = await import('../../src/dlq/reader.ts')
  const { reencryptDeadLetters } = await import('../../src/dlq/rotate.ts')
  const { ciphertextKeyId, decryptValue } = await import('../../src/privacy/transforms/encrypt.ts')
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-message-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const MARKER = 'MARKER-PII-6262'
  const people = contract({ name: 'people', personal: ['email'], schema: z.object({ id: z.number(), email: z.string() }) })
  writeFileSync(join(dir, 'in.jsonl'), `{"id":1,"email":"${MARKER}-a"}\n{"id":2,"email":"ok@example.com"}\n`)
  const p = pipeline('people', { onError: 'dead-letter', deadLetter: { dir: join(dir, 'log'), personalKeys: keys, includeStack: true } })
  p.from(withContract(source.jsonl(join(dir, 'in.jsonl')), people))
    .map((r) => {
      if (r.email.startsWith('MARKER')) throw new Error(`unexpected address ${r.email}`)
      return r
    })
    .to(sink.jsonl(join(dir, 'out.jsonl')))
  assert.equal((await run(p)).errors, 1)
  for (const f of filesUnder(join(dir, 'log'))) assert.ok(!readFileSync(f).includes(MARKER), `personal value in clear in ${f}`)
  const [letter] = await readDeadLetters(join(dir, 'log'), 'people.dlq')
  assert.equal(letter.reason, 'user-function')
  assert.equal(letter.error.encrypted, true)
  assert.equal(decryptValue(keys, letter.error.message), `unexpected address ${MARKER}-a`)
  assert.match(String(decryptValue(keys, letter.error.stack!)), /unexpected address/)

  const newKey = keys.rotate('default')
  assert.equal((await reencryptDeadLetters(join(dir, 'log'), keys)).reencrypted, 3, 'the email, the message and the stack')
  const [after] = await readDeadLetters(join(dir, 'log'), 'people.dlq')
  assert.equal(ciphertextKeyId(after.error.message), newKey)
  assert.equal(decryptValue(keys, after.error.message), `unexpected address ${MARKER}-a`)
})
