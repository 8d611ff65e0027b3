import { auctions, JOIN_TTL, persons, type NexmarkQuery } from './query.ts'

export interface Q3Row {
  name: string
  city: string
  state: string
  id: number
}

/** q3, local item suggestion: category-10 auctions joined with their sellers living in OR, ID or CA. */
export const q3: NexmarkQuery<Q3Row> = {
  name: 'q3',
  title: 'auctions in category 10 joined with sellers in OR, ID, CA (incremental join)',
  columns: ['name', 'city', 'state', 'id'],
  deterministic: true,
  build(events) {
    const a = auctions(events).filter((x) => x.category === 10)
    const p = persons(events).filter((x) => x.state === 'OR' || x.state === 'ID' || x.state === 'CA')
    return a.keyBy((x) => x.seller).join(p.keyBy((x) => x.id), { ttl: JOIN_TTL }, (au, pe) => ({ name: pe.name, city: pe.city, state: pe.state, id: au.id }))
  },
}
