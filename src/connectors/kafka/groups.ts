// Consumer-group offsets without a group member: what the source commits for lag tools, and the sink's markers.
import type { Cluster } from './client.ts'
import { retryTransient } from './retry.ts'

/** The group's committed offsets of `parts` (absent where it has none). */
export async function groupOffsets(cluster: Cluster, group: string, parts: { topic: string; partition: number }[]): Promise<Map<(typeof parts)[number], number>> {
  const topics = [...new Set(parts.map((p) => p.topic))].map((topic) => ({ topic, partitions: parts.filter((p) => p.topic === topic).map((p) => ({ partition: p.partition })) }))
  const res = await retryTransient(async () => (await cluster.findGroupCoordinator({ groupId: group })).offsetFetch({ groupId: group, topics }))
  const out = new Map<(typeof parts)[number], number>()
  for (const t of res.responses) {
    for (const r of t.partitions) {
      const p = parts.find((x) => x.topic === t.topic && x.partition === r.partition)
      if (p !== undefined && Number(r.offset) >= 0) out.set(p, Number(r.offset))
    }
  }
  return out
}

/** Commits offsets to a group that has no live members (as an admin tool does: generation -1). */
export async function commitGroupOffsets(cluster: Cluster, group: string, offsets: { topic: string; partition: number; offset: number }[]): Promise<void> {
  const topics = [...new Set(offsets.map((x) => x.topic))].map((topic) => ({ topic, partitions: offsets.filter((x) => x.topic === topic).map((x) => ({ partition: x.partition, offset: String(x.offset) })) }))
  await retryTransient(async () => (await cluster.findGroupCoordinator({ groupId: group })).offsetCommit({ groupId: group, groupGenerationId: -1, memberId: '', retentionTime: -1, topics }))
}
