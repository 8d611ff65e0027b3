// `npm run bench -- privacy`: field transforms per CPU-second (mask, redact, hash with unique and with repeated
// values, the HMAC alone, encrypt, tokenize with a warm vault), and the whole protect step over records of four
// fields. Values are built before the timed loops and go through JSON.parse, so they are flat strings as a
// decoded record holds them: a template literal gives a rope, and flattening it inside the first timed loop
// cost about 15% of a hash.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { LocalKeyring } from '../../src/privacy/keys/local-keyring.ts'
import { TokenVault } from '../../src/privacy/vault/token-vault.ts'
import { mask, redact } from '../../src/privacy/transforms/mask.ts'
import { hash } from '../../src/privacy/transforms/hash.ts'
import { HmacSha256 } from '../../src/privacy/transforms/sha256-hmac.ts'
import { encrypt } from '../../src/privacy/transforms/encrypt.ts'
import { tokenize } from '../../src/privacy/transforms/tokenize.ts'
import { protect } from '../../src/privacy/protect.ts'
import type { FieldTransform } from '../../src/privacy/transforms/transform.ts'

function perCpuSecond(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i)
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) fn(i)
  const used = process.cpuUsage(start)
  return n / ((used.user + used.system) / 1e6)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

export async function main(argv: string[]): Promise<void> {
  const n = Number(argv.find((a) => a.startsWith('--n='))?.slice(4) ?? 1_000_000)
  const repeats = 3
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-privacy-'))
  try {
    const keys = LocalKeyring.openOrCreate(join(dir, 'keyring.json'), randomBytes(32))
    const vault = TokenVault.open(join(dir, 'vault'), keys)
    const decoded = (make: (i: number) => string): string[] => JSON.parse(JSON.stringify(Array.from({ length: n }, (_, i) => make(i))))
    const unique = decoded((i) => `user${i}@example.com`)
    const repeated = decoded((i) => `user${i % 1000}@example.com`)
    const cards = decoded((i) => `4111 1111 1111 ${String(i % 10000).padStart(4, '0')}`)
    const hmac = new HmacSha256(keys.current('hash').material)
    const mac = new Uint8Array(32)
    const digestOnly: FieldTransform = { kind: 'hash', apply: (v) => hmac.digest(v as string, mac), describe: () => ({}) }
    const cases: [string, FieldTransform, string[], number][] = [
      ['mask (keep last 4)', mask({ keepLast: 4 }), cards, n],
      ['redact', redact(), cards, n],
      ['hash, unique values', hash({ keys, cacheSize: 0 }), unique, n],
      ['hash, 1,000 distinct values', hash({ keys }), repeated, n],
      ['HMAC-SHA-256 alone (32 bytes)', digestOnly, unique, n],
      ['encrypt (AES-256-GCM)', encrypt({ keys }), unique, Math.min(n, 200_000)],
      ['tokenize, 1,000 distinct values', tokenize(vault), repeated, n],
    ]
    console.log(`field transforms, ${n.toLocaleString('en')} values, median of ${repeats} (fields per CPU-second)`)
    for (const [name, t, values, count] of cases) {
      const rate = median(Array.from({ length: repeats }, () => perCpuSecond(count, (i) => t.apply(values[i]))))
      console.log(`  ${name.padEnd(34)} ${Math.round(rate).toLocaleString('en').padStart(12)}  (${Math.round(1e9 / rate)} ns)`)
    }
    const step = protect({ email: hash({ keys }), card: mask({ keepLast: 4 }), phone: redact(), name: tokenize(vault) })
    const records = Array.from({ length: n }, (_, i) => ({ id: i, email: repeated[i], card: cards[i], phone: '555-0100', name: `name${i % 1000}` }))
    const rate = median(Array.from({ length: repeats }, () => perCpuSecond(n, (i) => step(records[i]))))
    console.log(`  ${'protect, 4 fields per record'.padEnd(34)} ${Math.round(rate).toLocaleString('en').padStart(12)} records (${Math.round(rate * 4).toLocaleString('en')} fields)`)
    await vault.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
