// A client that posts readings as NDJSON, 100 per request, and sends a request again when the source answers
// 429 or 503 (backpressure, a full disk) after the Retry-After it gives.
//   node examples/http-ingest/client.ts [count] [port] [token]
import { fileURLToPath } from 'node:url'
import type { Reading } from './pipeline.ts'

export function reading(id: number): Reading {
  return { id, device: `d${id % 8}`, value: (id * 37) % 100, ts: Date.UTC(2024, 4, 1) + id * 250 }
}

/** Posts readings 0..count-1; resolves with the ids the source acknowledged (200). */
export async function postReadings(count: number, port: number, token: string): Promise<number[]> {
  const acknowledged: number[] = []
  for (let from = 0; from < count; from += 100) {
    const ids = Array.from({ length: Math.min(100, count - from) }, (_, i) => from + i)
    const body = ids.map((id) => JSON.stringify(reading(id)) + '\n').join('')
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } })
      await res.arrayBuffer()
      if (res.status === 200) {
        acknowledged.push(...ids)
        break
      }
      if (res.status !== 429 && res.status !== 503) throw new Error(`the source answered ${res.status}`)
      await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)))
    }
  }
  return acknowledged
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [count = '1000', port = process.env.INGEST_PORT ?? '8080', token = process.env.INGEST_TOKEN ?? 'dev-token'] = process.argv.slice(2)
  const ids = await postReadings(Number(count), Number(port), token)
  console.log(`${ids.length} readings acknowledged`)
}
