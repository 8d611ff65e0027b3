import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { NexmarkGenerator, type NexmarkConfig, type NexmarkEvent } from '../../src/connectors/nexmark/index.ts'
import { canonicalRow, RowDigest } from './results.ts'

// An independent statement of each query in DuckDB SQL, over tables person, auction and bid holding the
// same generated events (plus `n`, the event number, which breaks ties the way arrival order does).
const RANK = (expr: string, col: string) =>
  `${expr} AS total_${col}, ${expr} FILTER (WHERE price < 10000) AS rank1_${col}, ` +
  `${expr} FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_${col}, ${expr} FILTER (WHERE price >= 1000000) AS rank3_${col}`
const CHANNEL_ID = `'(&|^)channel_id=([^&]*)'`

export const duckdbSql: Record<string, string> = {
  q0: `SELECT auction, bidder, price, dateTime AS "dateTime", extra FROM bid`,
  q1: `SELECT auction, bidder, CAST(0.908 * price AS DOUBLE) AS price, dateTime AS "dateTime", extra FROM bid`,
  q2: `SELECT auction, price FROM bid WHERE auction % 123 = 0`,
  q3: `SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P ON A.seller = P.id
       WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA')`,
  q4: `SELECT category, sum(final) // count(final) AS "avg" FROM (
         SELECT A.id, A.category, max(B.price) AS final FROM auction A JOIN bid B ON A.id = B.auction
         WHERE B.dateTime BETWEEN A.dateTime AND A.expires GROUP BY A.id, A.category
       ) GROUP BY category`,
  q5: `WITH h AS (SELECT auction, (dateTime // 2000) * 2000 - k * 2000 AS window_start FROM bid, range(5) t(k)),
       c AS (SELECT auction, window_start, window_start + 10000 AS window_end, count(*) AS num FROM h GROUP BY ALL),
       m AS (SELECT window_start, max(num) AS maxn FROM c GROUP BY window_start)
       SELECT c.auction, c.num, c.window_start, c.window_end FROM c JOIN m USING (window_start) WHERE c.num >= m.maxn`,
  q7: `WITH w AS (SELECT max(price) AS maxprice, (dateTime // 10000) * 10000 + 10000 AS wend FROM bid GROUP BY 2)
       SELECT B.auction, B.price, B.bidder, B.dateTime AS "dateTime" FROM bid B JOIN w ON B.price = w.maxprice
       WHERE B.dateTime BETWEEN w.wend - 10000 AND w.wend`,
  q8: `SELECT P.id, P.name, P.starttime FROM
         (SELECT id, name, (dateTime // 10000) * 10000 AS starttime FROM person GROUP BY ALL) P
       JOIN (SELECT seller, (dateTime // 10000) * 10000 AS starttime FROM auction GROUP BY ALL) A
       ON P.id = A.seller AND P.starttime = A.starttime`,
  q9: `SELECT id, itemName AS "itemName", description, initialBid AS "initialBid", reserve, dateTime AS "dateTime", expires,
         seller, category, extra, auction, bidder, price, bid_dateTime AS "bid_dateTime", bid_extra FROM (
         SELECT A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime, A.expires, A.seller, A.category, A.extra,
           B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
           row_number() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.dateTime ASC, B.n ASC) AS rownum
         FROM auction A JOIN bid B ON A.id = B.auction WHERE B.dateTime BETWEEN A.dateTime AND A.expires
       ) WHERE rownum <= 1`,
  q11: `WITH o AS (SELECT bidder, dateTime, n,
           CASE WHEN dateTime - lag(dateTime) OVER (PARTITION BY bidder ORDER BY dateTime, n) <= 10000 THEN 0 ELSE 1 END AS brk FROM bid),
        s AS (SELECT bidder, dateTime, sum(brk) OVER (PARTITION BY bidder ORDER BY dateTime, n ROWS UNBOUNDED PRECEDING) AS sid FROM o)
        SELECT bidder, count(*) AS bid_count, min(dateTime) AS starttime, max(dateTime) + 10000 AS endtime FROM s GROUP BY bidder, sid`,
  q14: `SELECT auction, bidder, CAST(0.908 * price AS DOUBLE) AS price,
          CASE WHEN hour(epoch_ms(dateTime)) >= 8 AND hour(epoch_ms(dateTime)) <= 18 THEN 'dayTime'
               WHEN hour(epoch_ms(dateTime)) <= 6 OR hour(epoch_ms(dateTime)) >= 20 THEN 'nightTime'
               ELSE 'otherTime' END AS "bidTimeType",
          dateTime AS "dateTime", extra, length(extra) - length(replace(extra, 'c', '')) AS c_counts
        FROM bid WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000`,
  q16: `SELECT channel, strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day, max(strftime(epoch_ms(dateTime), '%H:%M')) AS minute,
          ${RANK('count(*)', 'bids')}, ${RANK('count(DISTINCT bidder)', 'bidders')}, ${RANK('count(DISTINCT auction)', 'auctions')}
        FROM bid GROUP BY channel, strftime(epoch_ms(dateTime), '%Y-%m-%d')`,
  q17: `SELECT auction, strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day, ${RANK('count(*)', 'bids')},
          min(price) AS min_price, max(price) AS max_price, sum(price) // count(*) AS avg_price, sum(price) AS sum_price
        FROM bid GROUP BY auction, strftime(epoch_ms(dateTime), '%Y-%m-%d')`,
  q18: `SELECT auction, bidder, price, channel, url, dateTime AS "dateTime", extra FROM (
          SELECT *, row_number() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC, n DESC) AS rank_number FROM bid
        ) WHERE rank_number <= 1`,
  q19: `SELECT auction, bidder, price, channel, url, dateTime AS "dateTime", extra, rank_number FROM (
          SELECT *, row_number() OVER (PARTITION BY auction ORDER BY price DESC, n ASC) AS rank_number FROM bid
        ) WHERE rank_number <= 10`,
  q20: `SELECT B.auction, B.bidder, B.price, B.channel, B.url, B.dateTime AS "bid_dateTime", B.extra AS bid_extra,
          A.itemName AS "itemName", A.description, A.initialBid AS "initialBid", A.reserve, A.dateTime AS "auction_dateTime",
          A.expires, A.seller, A.category, A.extra AS auction_extra
        FROM bid B JOIN auction A ON B.auction = A.id WHERE A.category = 10`,
  q21: `SELECT auction, bidder, price, channel,
          CASE WHEN lower(channel) = 'apple' THEN '0' WHEN lower(channel) = 'google' THEN '1'
               WHEN lower(channel) = 'facebook' THEN '2' WHEN lower(channel) = 'baidu' THEN '3'
               WHEN regexp_matches(url, ${CHANNEL_ID}) THEN regexp_extract(url, ${CHANNEL_ID}, 2) END AS channel_id
        FROM bid WHERE regexp_matches(url, ${CHANNEL_ID}) OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')`,
  q22: `SELECT auction, bidder, price, channel, string_split(url, '/')[4] AS dir1, string_split(url, '/')[5] AS dir2,
          string_split(url, '/')[6] AS dir3 FROM bid`,
}

const SCHEMA = `
  CREATE TABLE person (n BIGINT, id BIGINT, name VARCHAR, "emailAddress" VARCHAR, "creditCard" VARCHAR, city VARCHAR, state VARCHAR, "dateTime" BIGINT, extra VARCHAR);
  CREATE TABLE auction (n BIGINT, id BIGINT, "itemName" VARCHAR, description VARCHAR, "initialBid" BIGINT, reserve BIGINT, "dateTime" BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra VARCHAR);
  CREATE TABLE bid (n BIGINT, auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, "dateTime" BIGINT, extra VARCHAR);`

/** An in-memory DuckDB, single-threaded, holding events 0..events-1 of the generator. */
export async function duckdbWithEvents(events: number, config: Partial<NexmarkConfig> = {}): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' })
  const conn = await instance.connect()
  await conn.run(SCHEMA)
  const gen = new NexmarkGenerator(config)
  const person = await conn.createAppender('person')
  const auction = await conn.createAppender('auction')
  const bid = await conn.createAppender('bid')
  const big = (x: number) => BigInt(x)
  const chunk: NexmarkEvent[] = []
  for (let from = 0; from < events; from += 4096) {
    chunk.length = 0
    gen.fill(chunk, from, 1, Math.min(4096, events - from))
    for (let i = 0; i < chunk.length; i++) {
      const e = chunk[i]
      const n = from + i
      if (e.type === 'bid') {
        bid.appendBigInt(big(n)), bid.appendBigInt(big(e.auction)), bid.appendBigInt(big(e.bidder)), bid.appendBigInt(big(e.price))
        bid.appendVarchar(e.channel), bid.appendVarchar(e.url), bid.appendBigInt(big(e.dateTime)), bid.appendVarchar(e.extra)
        bid.endRow()
      } else if (e.type === 'auction') {
        auction.appendBigInt(big(n)), auction.appendBigInt(big(e.id)), auction.appendVarchar(e.itemName), auction.appendVarchar(e.description)
        auction.appendBigInt(big(e.initialBid)), auction.appendBigInt(big(e.reserve)), auction.appendBigInt(big(e.dateTime)), auction.appendBigInt(big(e.expires))
        auction.appendBigInt(big(e.seller)), auction.appendBigInt(big(e.category)), auction.appendVarchar(e.extra)
        auction.endRow()
      } else {
        person.appendBigInt(big(n)), person.appendBigInt(big(e.id)), person.appendVarchar(e.name), person.appendVarchar(e.emailAddress)
        person.appendVarchar(e.creditCard), person.appendVarchar(e.city), person.appendVarchar(e.state), person.appendBigInt(big(e.dateTime)), person.appendVarchar(e.extra)
        person.endRow()
      }
    }
  }
  person.closeSync()
  auction.closeSync()
  bid.closeSync()
  return conn
}

/** Runs a query's SQL; numbers come back as JS numbers. */
export async function duckdbQuery(conn: DuckDBConnection, query: string): Promise<{ rows: Record<string, unknown>[]; seconds: number }> {
  const sql = duckdbSql[query]
  if (sql === undefined) throw new Error(`no DuckDB statement for ${query}`)
  const t0 = performance.now()
  const reader = await conn.runAndReadAll(sql)
  const seconds = (performance.now() - t0) / 1000
  const rows = reader.getRowObjectsJS().map((r) => {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(r)) o[k] = typeof v === 'bigint' ? Number(v) : v
    return o
  })
  return { rows, seconds }
}

/**
 * Times a query's SQL with its results kept inside DuckDB (a temporary table), as a sink keeps them: the
 * cost of handing rows to JavaScript is left out.
 */
export async function duckdbTime(conn: DuckDBConnection, query: string): Promise<{ wallSeconds: number; cpuSeconds: number }> {
  const sql = duckdbSql[query]
  if (sql === undefined) throw new Error(`no DuckDB statement for ${query}`)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await conn.run(`CREATE OR REPLACE TEMP TABLE nexmark_result AS ${sql}`)
  const wallSeconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await conn.run('DROP TABLE nexmark_result')
  return { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 }
}

/** Rows as sorted canonical strings (see `canonicalRow`), to compare as multisets. */
export function canonical(rows: readonly object[], columns: readonly string[]): string[] {
  return rows.map((row) => canonicalRow(row, columns)).sort()
}

/** The digest of a query's results in DuckDB (see `RowDigest`), read a chunk at a time: no row is kept. */
export async function duckdbDigest(conn: DuckDBConnection, query: string, columns: readonly string[]): Promise<string> {
  const sql = duckdbSql[query]
  if (sql === undefined) throw new Error(`no DuckDB statement for ${query}`)
  const d = new RowDigest()
  const result = await conn.stream(sql)
  for await (const rows of result.yieldRowObjectJs()) for (const r of rows) d.add(r, columns)
  return d.value
}
