import { and, desc, gte, lt, lte, max, sql, sum } from 'drizzle-orm'
import { lockLiveCounters, resetPeaks, torrentNames } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { statsDaily } from '../db/schema.ts'

// Postgres sums bigints to numeric, which both drivers hand over as a string.
const n = (v: unknown) => Number(v ?? 0)

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
    const live = await lockLiveCounters(tx)
    const earlier = new Map(
      (
        await tx
          .select({
            torrentId: statsDaily.torrentId,
            completed: sum(statsDaily.completed),
            uploaded: sum(statsDaily.uploaded),
          })
          .from(statsDaily)
          .where(lt(statsDaily.day, day))
          .groupBy(statsDaily.torrentId)
      ).map((r) => [r.torrentId, { completed: n(r.completed), uploaded: n(r.uploaded) }]),
    )
    const rows = live.flatMap((t) => {
      const before = earlier.get(t.torrentId) ?? { completed: 0, uploaded: 0 }
      if (t.completed <= before.completed && t.uploaded <= before.uploaded && t.peakPeers <= 0)
        return []
      return [
        {
          torrentId: t.torrentId,
          day,
          completed: Math.max(t.completed - before.completed, 0),
          uploaded: Math.max(t.uploaded - before.uploaded, 0),
          peakPeers: t.peakPeers,
        },
      ]
    })
    if (rows.length > 0) {
      // One statement, one parameter: the rows as JSON (thousands of torrents would be tens of
      // thousands of bind parameters, which cost more than the insert itself).
      const json = JSON.stringify(
        rows.map((r) => [r.torrentId, r.completed, r.uploaded, r.peakPeers]),
      )
      await tx.execute(sql`
        insert into ${statsDaily} (torrent_id, day, completed, uploaded, peak_peers)
        select (r->>0)::integer, ${day}::date, (r->>1)::bigint, (r->>2)::bigint, (r->>3)::integer
        from jsonb_array_elements(${json}::jsonb) as r
        on conflict (torrent_id, day) do update set
          completed = excluded.completed,
          uploaded = excluded.uploaded,
          peak_peers = greatest(${statsDaily}.peak_peers, excluded.peak_peers)`)
    }
    await resetPeaks(tx)
    return { day, rows: rows.length }
  })
}

/** Per torrent per day, oldest first: what `GET /api/stats` shows. Days are inclusive. */
export async function dailyStats(
  database: DatabaseHandle,
  range: { from?: string; to?: string } = {},
): Promise<
  Array<{
    day: string
    infoHash: string
    name: string
    releaseDir: string
    completed: number
    uploaded: number
    peakPeers: number
  }>
> {
  const rows = await database.db
    .select()
    .from(statsDaily)
    .where(
      and(
        range.from ? gte(statsDaily.day, range.from) : undefined,
        range.to ? lte(statsDaily.day, range.to) : undefined,
      ),
    )
  const names = await torrentNames(database.db, [...new Set(rows.map((r) => r.torrentId))])
  return rows
    .flatMap(({ torrentId, ...r }) => {
      const torrent = names.get(torrentId)
      return torrent ? [{ ...r, ...torrent }] : []
    })
    .sort(
      (a, b) =>
        compare(a.day, b.day) || compare(a.releaseDir, b.releaseDir) || compare(a.name, b.name),
    )
}

/** Every torrent's figures summed per day, newest first, from `since` (a UTC day) on. */
export async function dailyTotals(
  database: DatabaseHandle,
  since: string,
): Promise<Array<{ day: string; completed: number; uploaded: number; peakPeers: number }>> {
  const rows = await database.db
    .select({
      day: statsDaily.day,
      completed: sum(statsDaily.completed),
      uploaded: sum(statsDaily.uploaded),
      peakPeers: max(statsDaily.peakPeers),
    })
    .from(statsDaily)
    .where(gte(statsDaily.day, since))
    .groupBy(statsDaily.day)
    .orderBy(desc(statsDaily.day))
  return rows.map((d) => ({
    day: d.day,
    completed: n(d.completed),
    uploaded: n(d.uploaded),
    peakPeers: n(d.peakPeers),
  }))
}

/** Code-point order, the same on every database whatever its collation. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
