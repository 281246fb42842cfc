import { and, asc, eq, gte, lte, sql } from 'drizzle-orm'
import { statsDaily, torrents, torrentStats, type DatabaseHandle } from '../db/index.ts'

/** The UTC calendar day of `at`, as `stats_daily.day` stores it. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10)
}

/**
 * Folds `torrent_stats` into today's `stats_daily` rows: the job the appliance runs on a timer
 * (every few minutes; running it more often only costs a query).
 *
 * `torrent_stats.completed` and the two `uploaded_*` columns only grow, so a day's figure is
 * the running total minus what the earlier days already hold: re-running the job the same day
 * rewrites the same row, and a day the job did not run is folded into the next one that it
 * did. `peak_peers` is a high-water mark since the last rollup: it is folded into today's peak
 * and set back to 0 in the same transaction, with the rows locked, so a writer's
 * `greatest(peak_peers, n)` lands either before (and is folded now) or after (and is folded
 * next time). A torrent with nothing to report gets no row.
 *
 * @example
 * setInterval(() => void rollupDaily(database).catch(log.warn), 5 * 60_000)
 */
export async function rollupDaily(
  database: DatabaseHandle,
  options: { now?: Date } = {},
): Promise<{ day: string; rows: number }> {
  const day = utcDay(options.now ?? new Date())
  return database.db.transaction(async (tx) => {
    const result = await tx.execute(sql`
      with live as (
        select torrent_id, completed, uploaded_peer + uploaded_webseed as uploaded, peak_peers
        from ${torrentStats}
        for update
      ),
      earlier as (
        select torrent_id, sum(completed) as completed, sum(uploaded) as uploaded
        from ${statsDaily}
        where day < ${day}::date
        group by torrent_id
      )
      insert into ${statsDaily} (torrent_id, day, completed, uploaded, peak_peers)
      select live.torrent_id, ${day}::date,
        greatest(live.completed - coalesce(earlier.completed, 0), 0),
        greatest(live.uploaded - coalesce(earlier.uploaded, 0), 0),
        live.peak_peers
      from live left join earlier on earlier.torrent_id = live.torrent_id
      where live.completed > coalesce(earlier.completed, 0)
        or live.uploaded > coalesce(earlier.uploaded, 0)
        or live.peak_peers > 0
      on conflict (torrent_id, day) do update set
        completed = excluded.completed,
        uploaded = excluded.uploaded,
        peak_peers = greatest(${statsDaily}.peak_peers, excluded.peak_peers)
      returning torrent_id`)
    await tx
      .update(torrentStats)
      .set({ peakPeers: 0 })
      .where(sql`${torrentStats.peakPeers} <> 0`)
    // postgres-js answers with the rows, PGlite with `{ rows }`.
    const rows = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows
    return { day, rows: rows.length }
  })
}

/** Per torrent per day, oldest first: what `GET /api/stats` shows. Days are inclusive. */
export async function dailyStats(
  database: DatabaseHandle,
  range: { from?: string; to?: string } = {},
) {
  return database.db
    .select({
      day: statsDaily.day,
      infoHash: torrents.infoHash,
      name: torrents.name,
      releaseDir: torrents.releaseDir,
      completed: statsDaily.completed,
      uploaded: statsDaily.uploaded,
      peakPeers: statsDaily.peakPeers,
    })
    .from(statsDaily)
    .innerJoin(torrents, eq(torrents.id, statsDaily.torrentId))
    .where(
      and(
        range.from ? gte(statsDaily.day, range.from) : undefined,
        range.to ? lte(statsDaily.day, range.to) : undefined,
      ),
    )
    .orderBy(asc(statsDaily.day), asc(torrents.releaseDir), asc(torrents.name))
}
