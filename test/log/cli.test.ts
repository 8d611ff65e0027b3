import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main, commands } from '../../src/cli/main.ts'
import { openLog } from '../../src/log/index.ts'
import type { CliContext } from '../../src/cli/command.ts'

async function sluice(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => (out += c.toString()))
  stderr.on('data', (c: Buffer) => (err += c.toString()))
  const ctx = { stdout, stderr, cwd, env: {}, commands } as unknown as CliContext
  const code = await main(argv, ctx)
  return { code, out, err }
}

test('sluice log: produce lines, list topics, describe partitions, tail records', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-cli-'))
  try {
    await writeFile(join(dir, 'in.txt'), 'a\nb\nc\nd\n')
    assert.deepEqual(await sluice(dir, 'log', 'produce', 'clicks', 'in.txt', '--dir', 'log', '--partitions', '2', '-p', '1'), { code: 0, out: 'produced 4 records to clicks/1, offsets 0..3\n', err: '' })
    assert.equal((await sluice(dir, 'log', 'topics', '--dir', 'log')).out, 'clicks\n')
    const d = JSON.parse((await sluice(dir, 'log', 'describe', 'clicks', '--dir', 'log', '--json')).out)
    assert.deepEqual(d.partitions.map((p: { endOffset: number }) => p.endOffset), [0, 4])
    assert.equal((await sluice(dir, 'log', 'tail', 'clicks', '-p', '1', '-n', '2', '--dir', 'log')).out, 'c\nd\n')
    assert.equal((await sluice(dir, 'log', 'tail', 'clicks', '-p', '1', '--from', '1', '-n', '1', '--dir', 'log')).out, 'b\n')
    assert.equal((await sluice(dir, 'log', 'nope', '--dir', 'log')).code, 2)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('sluice log repair: a damaged segment is refused on open, repaired by the command, then readable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-cli-'))
  try {
    await writeFile(join(dir, 'in.txt'), 'a\nb\nc\nd\n')
    await sluice(dir, 'log', 'produce', 'clicks', 'in.txt', '--dir', 'log')
    const seg = join(dir, 'log', 'topics', 'clicks', '0', '00000000000000000000.log')
    const b = await readFile(seg)
    b[16 + 33] ^= 0xff // the first record's value byte: records after it are valid
    await writeFile(seg, b)
    const refused = await sluice(dir, 'log', 'tail', 'clicks', '--dir', 'log')
    assert.equal(refused.code, 1)
    assert.match(refused.err, /SLUICE_LOG_CORRUPT.*segment file 00000000000000000000\.log is damaged at byte 16/)
    assert.match(refused.err, /sluice log repair .*log --topic clicks/)
    const r = await sluice(dir, 'log', 'repair', 'log', '--topic', 'clicks')
    assert.equal(r.code, 0)
    assert.match(r.out, /^clicks\/0: damaged: bytes 16\.\.50 of 00000000000000000000\.log; offsets 0\.\.0 taken out; kept in topics\/clicks\/0\/quarantine\/00000000000000000000\.log\.16-50\.bad\n$/)
    assert.equal((await sluice(dir, 'log', 'tail', 'clicks', '--dir', 'log')).out, 'b\nc\nd\n')
    assert.equal((await sluice(dir, 'log', 'repair', 'log')).out, 'nothing to repair\n')
    assert.equal((await sluice(dir, 'log', 'repair', 'nolog')).code, 2)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('sluice log produce keeps every byte of a line (no UTF-8 decoding)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-cli-'))
  try {
    const bad = Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x62])
    await writeFile(join(dir, 'in.bin'), Buffer.concat([bad, Buffer.from('\r\nok\n')]))
    assert.equal((await sluice(dir, 'log', 'produce', 'raw', 'in.bin', '--dir', 'log')).code, 0)
    const log = await openLog(join(dir, 'log'), { retentionCheckMs: 0 })
    try {
      const b = await log.readBatch('raw', 0, 0)
      assert.deepEqual(b.values.map((v) => v.toString('hex')), [bad.toString('hex'), Buffer.from('ok').toString('hex')])
    } finally {
      await log.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
