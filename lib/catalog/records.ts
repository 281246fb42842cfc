import { and, eq, inArray, ne, or } from 'drizzle-orm'
import type { Database } from '../db/index.ts'
import { events, torrentFiles, torrents, torrentStats } from '../db/schema.ts'

/** A `torrents` row as the catalog hands it out: the one shape every area reads. */
export type TorrentRecord = typeof torrents.$inferSelect

/** A torrent the database holds, with the file states a rescan compares against. */
export interface TrackedTorrent extends TorrentRecord {
  files: Array<{ path: string; size: number; mtimeMs: number; inode: number }>
}

/** What the generator records of one published torrent: its row and its files, as the schema says. */
export type PublishedRow = Required<
  Pick<
    typeof torrents.$inferInsert,
    | 'infoHash'
    | 'infoHashV2'
    | 'name'
    | 'releaseDir'
    | 'profile'
    | 'format'
    | 'pieceLength'
    | 'size'
    | 'metainfo'
  >
> & {
  files: Array<Required<Omit<typeof torrentFiles.$inferInsert, 'torrentId'>>>
}

/** Active and superseded torrents with their files: what a reconcile compares the tree with. */
export async function loadTracked(db: Database): Promise<TrackedTorrent[]> {
  const rows = await db
    .select()
    .from(torrents)
    .where(or(eq(torrents.status, 'active'), eq(torrents.status, 'superseded')))
  if (rows.length === 0) return []
  const files = await db
    .select()
    .from(torrentFiles)
    .where(
      inArray(
        torrentFiles.torrentId,
        rows.map((r) => r.id),
      ),
    )
  const byTorrent = new Map<number, TrackedTorrent['files']>()
  for (const f of files) {
    const list = byTorrent.get(f.torrentId) ?? []
    list.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs, inode: f.inode })
    byTorrent.set(f.torrentId, list)
  }
  return rows.map((r) => ({ ...r, files: byTorrent.get(r.id) ?? [] }))
}

/**
 * Records a published torrent in one transaction: the torrent (a torrent seen before with the
 * same info-hash comes back to life), its files, its stats row, the torrents of the same release
 * it supersedes, and the events. Returns the torrent's id and the info-hashes superseded.
 */
export async function recordPublished(
  db: Database,
  row: PublishedRow,
): Promise<{ id: number; superseded: string[] }> {
  return db.transaction(async (tx) => {
    const now = new Date()
    const { files, ...fields } = row
    const values = {
      ...fields,
      status: 'active' as const,
      updatedAt: now,
      supersededAt: null,
      removedAt: null,
    }
    const [{ id }] = await tx
      .insert(torrents)
      .values(values)
      .onConflictDoUpdate({ target: torrents.infoHash, set: values })
      .returning({ id: torrents.id })
    await tx.delete(torrentFiles).where(eq(torrentFiles.torrentId, id))
    await tx.insert(torrentFiles).values(files.map((f) => ({ ...f, torrentId: id })))
    await tx.insert(torrentStats).values({ torrentId: id }).onConflictDoNothing()
    const older = await tx
      .update(torrents)
      .set({ status: 'superseded', supersededAt: now, updatedAt: now })
      .where(
        and(
          eq(torrents.releaseDir, row.releaseDir),
          eq(torrents.name, row.name),
          eq(torrents.status, 'active'),
          ne(torrents.id, id),
        ),
      )
      .returning({ id: torrents.id, infoHash: torrents.infoHash })
    const subject = `${row.releaseDir}/${row.name}`
    await tx.insert(events).values([
      { kind: 'published', torrentId: id, subject, message: `published ${subject}` },
      ...older.map((o) => ({
        kind: 'superseded' as const,
        torrentId: o.id,
        subject,
        message: `${subject}: ${o.infoHash} superseded by ${row.infoHash}`,
      })),
    ])
    return { id, superseded: older.map((o) => o.infoHash) }
  })
}

/** A release that is gone from the tree: its torrent stays tracked through the grace period. */
export async function retire(db: Database, torrent: TrackedTorrent): Promise<void> {
  await leave(db, torrent, 'superseded', 'gone from the tree, kept tracked for the grace period')
}

/** A retired torrent whose grace period is over: no longer tracked or served. */
export async function markRemoved(db: Database, torrent: TrackedTorrent): Promise<void> {
  await leave(db, torrent, 'removed', `${torrent.infoHash} removed after its grace period`)
}

/** A torrent's step out of the live set and the event that tells it, in one transaction. */
async function leave(
  db: Database,
  torrent: TrackedTorrent,
  status: 'superseded' | 'removed',
  why: string,
): Promise<void> {
  const now = new Date()
  const subject = `${torrent.releaseDir}/${torrent.name}`
  const stamp = status === 'superseded' ? { supersededAt: now } : { removedAt: now }
  await db.transaction(async (tx) => {
    await tx
      .update(torrents)
      .set({ status, ...stamp, updatedAt: now })
      .where(eq(torrents.id, torrent.id))
    await tx.insert(events).values({
      kind: status,
      torrentId: torrent.id,
      subject,
      message: `${subject}: ${why}`,
    })
  })
}
