import { count, eq, sum } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { torrents, torrentStats } from '../db/schema.ts'
import type { TorrentStatus } from './listing.ts'

// Postgres sums bigints to numeric, which both drivers hand over as a string.
const n = (v: unknown) => Number(v ?? 0)

/** Torrents and their bytes by status; a status with none is 0. */
export async function statusTotals(
  db: Database,
): Promise<Record<TorrentStatus, { torrents: number; bytes: number }>> {
  const rows = await db
    .select({ status: torrents.status, n: count(), bytes: sum(torrents.size) })
    .from(torrents)
    .groupBy(torrents.status)
  const out = {
    active: { torrents: 0, bytes: 0 },
    superseded: { torrents: 0, bytes: 0 },
    removed: { torrents: 0, bytes: 0 },
  }
  for (const r of rows) out[r.status] = { torrents: n(r.n), bytes: n(r.bytes) }
  return out
}

/** The counters of every torrent summed. */
export async function counterTotals(
  db: Database,
): Promise<{ completed: number; uploadedPeer: number; uploadedWebseed: number }> {
  const [totals] = await db
    .select({
      completed: sum(torrentStats.completed),
      peer: sum(torrentStats.uploadedPeer),
      webseed: sum(torrentStats.uploadedWebseed),
    })
    .from(torrentStats)
  return {
    completed: n(totals?.completed),
    uploadedPeer: n(totals?.peer),
    uploadedWebseed: n(totals?.webseed),
  }
}

/** Each active torrent's size and counters, by release dir and name. */
export async function activeCounters(db: Database): Promise<
  Array<{
    infoHash: string
    name: string
    size: number
    completed: number
    uploadedPeer: number
    uploadedWebseed: number
  }>
> {
  const rows = await db
    .select({
      infoHash: torrents.infoHash,
      name: torrents.name,
      size: torrents.size,
      completed: torrentStats.completed,
      uploadedPeer: torrentStats.uploadedPeer,
      uploadedWebseed: torrentStats.uploadedWebseed,
    })
    .from(torrents)
    .innerJoin(torrentStats, eq(torrentStats.torrentId, torrents.id))
    .where(eq(torrents.status, 'active'))
    .orderBy(torrents.releaseDir, torrents.name)
  return rows.map((r) => ({
    ...r,
    size: n(r.size),
    completed: n(r.completed),
    uploadedPeer: n(r.uploadedPeer),
    uploadedWebseed: n(r.uploadedWebseed),
  }))
}
