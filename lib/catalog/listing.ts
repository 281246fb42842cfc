import { and, asc, count, desc, eq, gt, inArray, type SQL } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { torrentFiles, torrents, torrentStats } from '../db/schema.ts'
import type { TorrentRecord } from './records.ts'

export type TorrentStatus = TorrentRecord['status']

/** A torrent's counters (`torrent_stats`); zero for a torrent that has none yet. */
export interface TorrentCounters {
  completed: number
  uploadedPeer: number
  uploadedWebseed: number
  peakPeers: number
}

export type TorrentFile = typeof torrentFiles.$inferSelect

const noCounters: TorrentCounters = {
  completed: 0,
  uploadedPeer: 0,
  uploadedWebseed: 0,
  peakPeers: 0,
}

/** The filters and page of `GET /api/torrents`. */
export interface TorrentQuery {
  status?: TorrentStatus
  releaseDir?: string
  limit: number
  /** The id of the last row of the page before. */
  after?: number
  offset?: number
}

/** One page of torrents, oldest first, and how many match in all. */
export async function torrentPage(
  db: Database,
  query: TorrentQuery,
): Promise<{ rows: TorrentRecord[]; total: number; more: boolean }> {
  const filters: SQL[] = []
  if (query.status) filters.push(eq(torrents.status, query.status))
  if (query.releaseDir !== undefined) filters.push(eq(torrents.releaseDir, query.releaseDir))
  const where = and(...filters)
  const [{ total }] = await db.select({ total: count() }).from(torrents).where(where)
  const page = await db
    .select()
    .from(torrents)
    .where(query.after === undefined ? where : and(where, gt(torrents.id, query.after)))
    .orderBy(asc(torrents.id))
    .limit(query.limit + 1)
    .offset(query.offset ?? 0)
  return { rows: page.slice(0, query.limit), total, more: page.length > query.limit }
}

/** The torrent with this hex info-hash: 40 digits (v1, or the tracker key) or 64 (v2). */
export async function findTorrent(db: Database, hash: string): Promise<TorrentRecord | undefined> {
  const [row] = await db
    .select()
    .from(torrents)
    .where(hash.length === 64 ? eq(torrents.infoHashV2, hash) : eq(torrents.infoHash, hash))
  return row
}

/** The newest active torrent, if any: what a mirror check fetches pieces of. */
export async function newestActive(db: Database): Promise<TorrentRecord | undefined> {
  const [row] = await db
    .select()
    .from(torrents)
    .where(eq(torrents.status, 'active'))
    .orderBy(desc(torrents.id))
    .limit(1)
  return row
}

/** Every active torrent, with its bytes: what a `url-list` rewrite goes over. */
export function activeRecords(db: Database): Promise<TorrentRecord[]> {
  return db.select().from(torrents).where(eq(torrents.status, 'active'))
}

/** The files of a torrent, by path. */
export function filesOf(db: Database, torrentId: number): Promise<TorrentFile[]> {
  return db
    .select()
    .from(torrentFiles)
    .where(eq(torrentFiles.torrentId, torrentId))
    .orderBy(asc(torrentFiles.path))
}

/** The counters of these torrents, by id; a torrent without a row gets zeros. */
export async function countersOf(
  db: Database,
  ids: readonly number[],
): Promise<Map<number, TorrentCounters>> {
  const out = new Map<number, TorrentCounters>(ids.map((id) => [id, noCounters]))
  if (ids.length === 0) return out
  const rows = await db
    .select()
    .from(torrentStats)
    .where(inArray(torrentStats.torrentId, [...ids]))
  for (const r of rows) {
    const { completed, uploadedPeer, uploadedWebseed, peakPeers } = r
    out.set(r.torrentId, { completed, uploadedPeer, uploadedWebseed, peakPeers })
  }
  return out
}

/**
 * Replaces an active torrent's stored bytes (a `url-list` rewrite: `info` and so the info-hash
 * are unchanged). A torrent superseded meanwhile is left as it is.
 */
export async function replaceMetainfo(db: Database, id: number, metainfo: Buffer): Promise<void> {
  await db
    .update(torrents)
    .set({ metainfo, updatedAt: new Date() })
    .where(and(eq(torrents.id, id), eq(torrents.status, 'active')))
}
