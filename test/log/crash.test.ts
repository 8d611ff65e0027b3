import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLog } from '../../src/log/index.ts'

const child = join(import.meta.dirname, 'append-child.ts')

/** Runs the appending child until it has acknowledged a little, kills it with SIGKILL at a random moment. */
function runAndKill(dir: string, seed: number): Promise<{ acked: number; start: number }> {
  return new Promise((resolve, reject) => {
    // The same Node that runs the tests (the pinned one), so the child can load TypeScript too.
    const p = spawn(process.execPath, [child, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let acked = 0
    let start = -1
    let timer: NodeJS.Timeout | undefined
    p.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const lines = out.split('\n')
      out = lines.pop()!
      for (const l of lines) {
        const [kind, a, b] = l.split(' ')
        if (kind === 'ready') {
          start = Number(a)
          timer = setTimeout(() => p.kill('SIGKILL'), 30 + ((seed * 7919) % 250))
        } else if (kind === 'ack') acked = Math.max(acked, Number(b))
      }
    })
    p.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
    p.on('error', reject)
    p.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL') reject(new Error(`the child ended with ${code ?? signal} before it was killed: ${err}`))
      else resolve({ acked, start })
    })
  })
}

test('records acknowledged under fsync always survive SIGKILL at random moments; offsets stay dense', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-log-crash-'))
  try {
    let totalAcked = 0
    let prevEnd = 0
    for (let round = 1; round <= 5; round++) {
      const { acked, start } = await runAndKill(dir, round)
      const lines: string[] = []
      const log = await openLog(dir, { retentionCheckMs: 0, logger: { warn: (m) => void lines.push(m) } })
      try {
        const p = log.describe('t').partitions[0]
        // The child went on from where the previous reopen left the partition.
        assert.equal(start, prevEnd)
        assert.ok(p.endOffset >= acked, `round ${round}: ${p.endOffset} records kept, ${acked} acknowledged`)
        assert.ok(lines.length <= 1, lines.join('\n'))
        // Every stored record is whole (reads verify checksums), dense, and the one written at its offset.
        let off = 0
        while (off < p.endOffset) {
          const b = await log.readBatch('t', 0, off, { maxRecords: 5000 })
          for (let i = 0; i < b.offsets.length; i++) {
            assert.equal(b.offsets[i], off + i)
            assert.equal(b.values[i].toString(), `o${off + i}`)
          }
          off = b.nextOffset
        }
        assert.equal(off, p.endOffset)
        prevEnd = p.endOffset
        totalAcked = Math.max(totalAcked, acked)
      } finally {
        await log.close()
      }
    }
    assert.ok(totalAcked > 0, 'the child acknowledged nothing')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
