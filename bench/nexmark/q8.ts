import { window } from '../../src/index.ts'
import { auctions, persons, type NexmarkQuery } from './query.ts'

export interface Q8Row {
  id: number
  name: string
  starttime: number
}

const SIZE = 10_000

/**
 * q8, monitor new users: people who created an auction in the same 10 s tumbling window they registered
 * in. Auctions are first grouped per (seller, window), as in the SQL, then window-joined with the people.
 */
export const q8: NexmarkQuery<Q8Row> = {
  name: 'q8',
  title: 'people who created an auction in the 10 s window they registered in (window join)',
  columns: ['id', 'name', 'starttime'],
  deterministic: true,
  build(events) {
    const tumbling = window.tumbling({ size: '10s' })
    const sellers = auctions(events)
      .keyBy((a) => a.seller)
      .window(tumbling)
      .count()
    return persons(events)
      .keyBy((p) => p.id)
      .windowJoin(
        sellers.keyBy((s) => s.key),
        tumbling,
        (p) => ({ id: p.id, name: p.name, starttime: p.dateTime - (p.dateTime % SIZE) }),
      )
  },
}
