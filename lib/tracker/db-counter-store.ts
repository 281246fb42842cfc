import { eq, sql } from 'drizzle-orm'
import { torrents, torrentStats, type Database } from '../db/index.ts'
import type { CounterStore } from './counter-store.ts'

/**
 * `downloaded` counts in `torrent_stats.completed`, keyed through `torrents.info_hash` (hex of
 * the 20-byte tracker key; a hybrid's v2 swarm through the truncation of `info_hash_v2`). A batch is one statement, so it lands whole or not at all and the
 * tracker can retry a failed one without counting anything twice.
 *
 * @example
 * const tracker = new Tracker({ counterStore: new DbCounterStore(database.db) })
 */
export class DbCounterStore implements CounterStore {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  async load(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ infoHash: torrents.infoHash, completed: torrentStats.completed })
      .from(torrentStats)
      .innerJoin(torrents, eq(torrents.id, torrentStats.torrentId))
    return new Map(rows.map((row) => [row.infoHash.toLowerCase(), row.completed]))
  }

  async addCompleted(batch: Map<string, number>): Promise<void> {
    if (batch.size === 0) return
    const values = sql.join(
      [...batch].map(([infoHash, n]) => sql`(${infoHash}, ${n}::bigint)`),
      sql`, `,
    )
    // Torrents deleted meanwhile match no row and their counts are dropped with them. A hybrid
    // torrent's second swarm is keyed by its truncated v2 hash (BEP 52): its completions count
    // for the same torrent, summed with the v1 swarm's so one row is written once.
    await this.db.execute(sql`
      insert into ${torrentStats} (torrent_id, completed)
      select t.id, sum(v.n)::bigint from ${torrents} t
      join (values ${values}) as v(info_hash, n)
        on t.info_hash = v.info_hash or left(t.info_hash_v2, 40) = v.info_hash
      group by t.id
      on conflict (torrent_id) do update
        set completed = ${torrentStats}.completed + excluded.completed, updated_at = now()`)
  }
}
