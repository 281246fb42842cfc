import { count, desc, eq, inArray, max, sql, sum } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { torrentFiles, torrents, torrentStats } from '../db/schema.ts'

/** An active torrent as the public pages list it: the row, its file count and its counters. */
export interface CatalogTorrent {
  id: number
  infoHash: string
  name: string
  releaseDir: string
  profile: string | null
  format: 'v1' | 'v2' | 'hybrid'
  size: number
  files: number
  completed: number
  /** Bytes the origin sent (seeder and web seed), from `torrent_stats`. */
  originBytes: number
  createdAt: Date
  metainfoLength: number
  /**
   * Changes whenever the stored `.torrent` does (a url-list rewrite keeps the info-hash), so a
   * reload parses only the torrents whose bytes changed.
   */
  metainfoVersion: string
}

/** Active torrents, newest first, without their metainfo bytes (fetched apart when changed). */
export async function activeTorrents(db: Database): Promise<CatalogTorrent[]> {
  const fileCounts = db
    .select({ torrentId: torrentFiles.torrentId, files: count().as('files') })
    .from(torrentFiles)
    .groupBy(torrentFiles.torrentId)
    .as('file_counts')
  const rows = await db
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

/** The `.torrent` bytes of these torrents, by id. */
export async function metainfoOf(
  db: Database,
  ids: readonly number[],
): Promise<Map<number, Buffer>> {
  if (ids.length === 0) return new Map()
  const rows = await db
    .select({ id: torrents.id, metainfo: torrents.metainfo })
    .from(torrents)
    .where(inArray(torrents.id, [...ids]))
  return new Map(rows.map((r) => [r.id, r.metainfo]))
}

/** Whole-file SHA-256 of each file of these torrents: torrent id -> path -> hex digest. */
export async function digestsOf(
  db: Database,
  ids: readonly number[],
): Promise<Map<number, Map<string, string | null>>> {
  const out = new Map<number, Map<string, string | null>>()
  if (ids.length === 0) return out
  const rows = await db
    .select({ id: torrentFiles.torrentId, path: torrentFiles.path, sha256: torrentFiles.sha256 })
    .from(torrentFiles)
    .where(inArray(torrentFiles.torrentId, [...ids]))
  for (const r of rows) {
    let m = out.get(r.id)
    if (!m) out.set(r.id, (m = new Map()))
    m.set(r.path, r.sha256)
  }
  return out
}

/**
 * A short text that changes when anything the public pages show of the catalog changes: the
 * active torrents (count, last update) and the counters. Cheap enough to poll.
 */
export async function catalogSignature(db: Database): Promise<string> {
  const [t] = await db
    .select({ n: count(), at: max(torrents.updatedAt) })
    .from(torrents)
    .where(eq(torrents.status, 'active'))
  const [st] = await db
    .select({
      done: sum(torrentStats.completed),
      peer: sum(torrentStats.uploadedPeer),
      web: sum(torrentStats.uploadedWebseed),
    })
    .from(torrentStats)
  return `${t?.n}/${t?.at?.valueOf()}/${st?.done}/${st?.peer}/${st?.web}`
}
