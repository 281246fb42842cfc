import { eq, inArray, or, sql } from 'drizzle-orm'
import { rowsOf, type Database } from '../db/index.ts'
import { events, torrentFiles, torrents } from '../db/schema.ts'

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
 * Records a published torrent in one statement, atomic as a transaction is: the torrent (a torrent
 * seen before with the same info-hash comes back to life), its files, its stats row, the torrents
 * of the same release it supersedes, and the events. Returns the torrent's id and the info-hashes
 * superseded.
 *
 * One statement, not a transaction of six: on the embedded database every statement is a
 * blocking round trip through PGlite on the main thread, and recording was most of a first
 * scan's main-thread time per release (node --cpu-prof of `scan`, bench/scan.ts). With the
 * failure check read once per pass (`lastFailures`), the first 50 releases recorded into a new
 * PGlite database took 6.5-7.4 ms of CPU each, against 13.2-14.7 ms before. The parts are
 * data-modifying CTEs, which all see the same snapshot and none of each other's changes
 * (PostgreSQL manual, "Data-Modifying Statements in WITH"). So the files are an upsert beside a
 * delete of the paths the torrent no longer has: disjoint rows, where a delete of all and an
 * insert of all would collide on the primary key. The superseded rows exclude the torrent's own.
 */
export async function recordPublished(
  db: Database,
  row: PublishedRow,
): Promise<{ id: number; superseded: string[] }> {
  const now = new Date().toISOString()
  const subject = `${row.releaseDir}/${row.name}`
  const files = JSON.stringify(
    row.files.map((f) => ({
      path: f.path,
      size: f.size,
      role: f.role,
      mtime_ms: f.mtimeMs,
      inode: f.inode,
      sha256: f.sha256,
    })),
  )
  const result = await db.execute(sql`
    with t as (
      insert into torrents (info_hash, info_hash_v2, name, release_dir, profile, format,
        piece_length, size, metainfo, status, updated_at, superseded_at, removed_at)
      values (${row.infoHash}, ${row.infoHashV2}, ${row.name}, ${row.releaseDir}, ${row.profile},
        ${row.format}, ${row.pieceLength}, ${row.size}, ${row.metainfo}, 'active', ${now}, null, null)
      on conflict (info_hash) do update set info_hash_v2 = excluded.info_hash_v2,
        name = excluded.name, release_dir = excluded.release_dir, profile = excluded.profile,
        format = excluded.format, piece_length = excluded.piece_length, size = excluded.size,
        metainfo = excluded.metainfo, status = 'active', updated_at = excluded.updated_at,
        superseded_at = null, removed_at = null
      returning id
    ),
    listed as (
      select * from jsonb_to_recordset(${files}::jsonb)
        as f(path text, size bigint, role text, mtime_ms bigint, inode bigint, sha256 text)
    ),
    unlisted as (
      delete from torrent_files using t
      where torrent_files.torrent_id = t.id
        and torrent_files.path not in (select path from listed)
    ),
    kept as (
      insert into torrent_files (torrent_id, path, size, role, mtime_ms, inode, sha256)
      select t.id, listed.path, listed.size, listed.role, listed.mtime_ms, listed.inode,
        listed.sha256
      from t, listed
      on conflict (torrent_id, path) do update set size = excluded.size, role = excluded.role,
        mtime_ms = excluded.mtime_ms, inode = excluded.inode, sha256 = excluded.sha256
    ),
    stats as (
      insert into torrent_stats (torrent_id) select id from t on conflict do nothing
    ),
    older as (
      update torrents set status = 'superseded', superseded_at = ${now}, updated_at = ${now}
      from t
      where torrents.release_dir = ${row.releaseDir} and torrents.name = ${row.name}
        and torrents.status = 'active' and torrents.id <> t.id
      returning torrents.id, torrents.info_hash
    ),
    logged as (
      insert into events (kind, torrent_id, subject, message)
      select 'published', t.id, ${subject}, ${`published ${subject}`} from t
      union all
      select 'superseded', older.id, ${subject},
        ${`${subject}: `} || older.info_hash || ${` superseded by ${row.infoHash}`}
      from older
    )
    select t.id, coalesce((select array_agg(info_hash order by id) from older), '{}') as superseded
    from t`)
  const [recorded] = rowsOf<{ id: number; superseded: string[] }>(result)
  return { id: Number(recorded.id), superseded: recorded.superseded }
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
