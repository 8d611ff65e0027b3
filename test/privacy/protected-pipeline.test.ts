import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring, TokenVault, pipeline, privacy, run, sink, source, formatSummary } from '../../src/index.ts'

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]))
}

test('a pipeline that protects personal fields writes no personal value anywhere, and joins still work on pseudonyms', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-privacy-'))
  const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
  const vault = TokenVault.open(join(dir, 'vault'), keys)
  const marker = (i: number) => `MARKER-${i % 7}-PII`
  const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, email: `${marker(i)}@example.com`, card: `4111-1111-1111-${String(1000 + i).slice(-4)}`, name: marker(i), birth: `${marker(i)}-1980` }))
  writeFileSync(join(dir, 'in.jsonl'), lines.join('\n') + '\n')
  type Customer = { id: number; email: string; card: string; name: string; birth: string }
  const p = pipeline('protect')
  p.from(source.jsonl<Customer>(join(dir, 'in.jsonl')))
    .map(privacy.protect({
      email: privacy.hash({ keys }),
      card: privacy.mask({ keepLast: 4, keepSeparators: true }),
      name: privacy.tokenize(vault),
      birth: privacy.encrypt({ keys }),
    }))
    .id('protect')
    .to(sink.jsonl(join(dir, 'out.jsonl')))
  const summary = await run(p, { checkpoint: { dir: join(dir, 'chk'), intervalMs: 3_600_000 } })
  await vault.close()
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>)
  assert.equal(out.length, 300)
  assert.match(out[0].card, /^\*\*\*\*-\*\*\*\*-\*\*\*\*-\d{4}$/)
  const sameEmail = out.filter((r) => r.email === out[0].email).map((r) => Number(r.id) % 7)
  assert.deepEqual(new Set(sameEmail), new Set([0]), 'equal values give equal pseudonyms')
  assert.equal(new Set(out.map((r) => r.email)).size, 7)
  assert.equal(new Set(out.map((r) => r.name)).size, 7)
  const reopened = TokenVault.open(join(dir, 'vault'), keys)
  assert.equal(reopened.detokenize(out[3].name), marker(3))
  await reopened.close()
  assert.equal(privacy.decrypt({ keys }).apply(out[5].birth), `${marker(5)}-1980`)
  const printed = formatSummary(summary)
  for (const file of filesUnder(dir).filter((f) => !f.endsWith('in.jsonl'))) {
    assert.ok(!readFileSync(file).includes('MARKER-'), `${file} holds a personal value`)
  }
  assert.ok(!printed.includes('MARKER-'))
})
