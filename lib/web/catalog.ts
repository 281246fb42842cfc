import { asc, count, desc, eq, inArray, sql } from 'drizzle-orm'
import {
  mirrors,
  torrentFiles,
  torrents,
  torrentStats,
  type DatabaseHandle,
  type MirrorRow,
} from '../db/index.ts'

/** An active torrent as the public pages show it. */
export interface CatalogTorrent {
  id: number
  infoHash: string
  name: string
  releaseDir: string
  /** The layout whose rules made it; null for torrents published before profiles. */
  profile: string | null
  format: 'v1' | 'v2' | 'hybrid'
  size: number
  files: number
  /** Completions recorded in the database (the tracker flushes them in batches). */
  completed: number
  /** Bytes our seeder and web seed sent for it (flushed in batches, like `completed`). */
  originBytes: number
  createdAt: Date
  /** Bytes of the stored `.torrent`, and an MD5 of them that changes when it is rewritten. */
  metainfoLength: number
  metainfoVersion: string
}

/**
 * Active torrents, newest first. The `.torrent` bytes stay in the database: a page needs them
 * only for a magnet link it has not built yet (see `metainfoOf`), and a 4 GiB ISO's metainfo is
 * tens of KiB, so hundreds of torrents would be megabytes per page view.
 */
export async function activeTorrents(database: DatabaseHandle): Promise<CatalogTorrent[]> {
  const fileCounts = database.db
    .select({ torrentId: torrentFiles.torrentId, files: count().as('files') })
    .from(torrentFiles)
    .groupBy(torrentFiles.torrentId)
    .as('file_counts')
  const rows = await database.db
    .select({
      id: torrents.id,
      infoHash: torrents.infoHash,
      name: torrents.name,
      releaseDir: torrents.releaseDir,
      profile: torrents.profile,
      format: torrents.format,
      size: torrents.size,
      files: fileCounts.files,
      completed: torrentStats.completed,
      uploadedPeer: torrentStats.uploadedPeer,
      uploadedWebseed: torrentStats.uploadedWebseed,
      createdAt: torrents.createdAt,
      metainfoLength: sql<number>`octet_length(${torrents.metainfo})`,
      metainfoVersion: sql<string>`md5(${torrents.metainfo})`,
    })
    .from(torrents)
    .leftJoin(fileCounts, eq(fileCounts.torrentId, torrents.id))
    .leftJoin(torrentStats, eq(torrentStats.torrentId, torrents.id))
    .where(eq(torrents.status, 'active'))
    .orderBy(desc(torrents.createdAt), desc(torrents.id))
  return rows.map(({ uploadedPeer, uploadedWebseed, ...r }) => ({
    ...r,
    files: Number(r.files ?? 0),
    completed: r.completed ?? 0,
    originBytes: Number(uploadedPeer ?? 0) + Number(uploadedWebseed ?? 0),
    metainfoLength: Number(r.metainfoLength),
  }))
}

/** The stored `.torrent` of each of `ids`. */
export async function metainfoOf(
  database: DatabaseHandle,
  ids: readonly number[],
): Promise<Map<number, Buffer>> {
  if (ids.length === 0) return new Map()
  const rows = await database.db
    .select({ id: torrents.id, metainfo: torrents.metainfo })
    .from(torrents)
    .where(inArray(torrents.id, [...ids]))
  return new Map(rows.map((r) => [r.id, r.metainfo]))
}

export async function mirrorHealth(database: DatabaseHandle): Promise<MirrorRow[]> {
  return database.db.select().from(mirrors).orderBy(asc(mirrors.name))
}
