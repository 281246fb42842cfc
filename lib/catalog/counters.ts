import { eq, inArray, sql } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { torrents, torrentStats } from '../db/schema.ts'

/** What a stats flush adds to one torrent's counters. */
export interface CounterDelta {
  uploadedPeer: number
  uploadedWebseed: number
  /** The largest swarm seen since the last flush; the stored peak only grows. */
  peers: number
}

/**
 * Adds a flush's uploads and peaks to `torrent_stats` in one statement (a failed batch is
 * retried whole). Torrents are named by their tracker key; one deleted meanwhile matches nothing.
 */
export async function addCounters(
  db: Database,
  batch: ReadonlyArray<readonly [infoHash: string, delta: CounterDelta]>,
): Promise<void> {
  if (batch.length === 0) return
  // One statement for the batch: it lands whole or not at all, and costs one round trip.
  const values = sql.join(
    batch.map(
      ([infoHash, p]) =>
        sql`(${infoHash}::text, ${p.uploadedPeer}::bigint, ${p.uploadedWebseed}::bigint, ${p.peers}::integer)`,
    ),
    sql`, `,
  )
  await db.execute(sql`
    update ${torrentStats} set
      uploaded_peer = ${torrentStats}.uploaded_peer + v.peer,
      uploaded_webseed = ${torrentStats}.uploaded_webseed + v.webseed,
      peak_peers = greatest(${torrentStats}.peak_peers, v.peers),
      updated_at = now()
    from ${torrents}, (values ${values}) as v(info_hash, peer, webseed, peers)
    where ${torrents.id} = ${torrentStats.torrentId} and ${torrents.infoHash} = v.info_hash`)
}

/**
 * The tracker's `downloaded` counts in `torrent_stats.completed`: the tracker's `CounterStore`
 * (it loads them at start and adds batches), kept here so the tracker has no table of its own.
 * Keyed through `torrents.info_hash` (hex of the 20-byte tracker key; a hybrid's v2 swarm through
 * the truncation of `info_hash_v2`). A batch is one statement, so it lands whole or not at all and
 * the tracker can retry a failed one without counting anything twice.
 *
 * @example
 * const tracker = new Tracker({ counterStore: new CompletionCounts(database.db) })
 */
export class CompletionCounts {
  constructor(private readonly db: Database) {}

  /** Every stored count: hex tracker key -> completions ever. */
  async load(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ infoHash: torrents.infoHash, completed: torrentStats.completed })
      .from(torrentStats)
      .innerJoin(torrents, eq(torrents.id, torrentStats.torrentId))
    return new Map(rows.map((row) => [row.infoHash.toLowerCase(), row.completed]))
  }

  /** Adds completions, all or none, in one statement. */
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

/** One torrent's running totals, as the daily rollup reads them. */
export interface LiveCounters {
  torrentId: number
  completed: number
  /** Seeder and web seed together. */
  uploaded: number
  peakPeers: number
}

/**
 * Every torrent's running totals, locked until `tx` ends (a stats flush waits instead of adding
 * to a peak the rollup is about to reset). Call inside a transaction.
 */
export async function lockLiveCounters(tx: Database): Promise<LiveCounters[]> {
  const rows = await tx
    .select({
      torrentId: torrentStats.torrentId,
      completed: torrentStats.completed,
      uploadedPeer: torrentStats.uploadedPeer,
      uploadedWebseed: torrentStats.uploadedWebseed,
      peakPeers: torrentStats.peakPeers,
    })
    .from(torrentStats)
    .for('update')
  return rows.map(({ uploadedPeer, uploadedWebseed, ...r }) => ({
    ...r,
    uploaded: uploadedPeer + uploadedWebseed,
  }))
}

/** Peaks start over after a rollup took them: each day's peak is that day's. */
export async function resetPeaks(tx: Database): Promise<void> {
  await tx
    .update(torrentStats)
    .set({ peakPeers: 0 })
    .where(sql`${torrentStats.peakPeers} <> 0`)
}

/** Names of these torrents, by id: what rollup rows are shown with. */
export async function torrentNames(
  db: Database,
  ids: readonly number[],
): Promise<Map<number, { infoHash: string; name: string; releaseDir: string }>> {
  if (ids.length === 0) return new Map()
  const rows = await db
    .select({
      id: torrents.id,
      infoHash: torrents.infoHash,
      name: torrents.name,
      releaseDir: torrents.releaseDir,
    })
    .from(torrents)
    .where(inArray(torrents.id, [...ids]))
  return new Map(rows.map(({ id, ...r }) => [id, r]))
}
