import path from 'node:path'
import { loadTracked } from '../catalog/index.ts'
import type { DatabaseHandle } from '../db/index.ts'
import { parseTorrent, trackerKeyHex, type Torrent } from '../metainfo/index.ts'

/** A torrent the tracker should track and the seeder seed. */
export interface LiveTorrent {
  id: number
  /** The tracker key, hex: v1 info-hash, or v2's truncated to 20 bytes. */
  infoHash: string
  releaseDir: string
  /** False once superseded: still tracked through the grace period, no longer seeded. */
  active: boolean
  supersededAt: Date | null
  torrent: Torrent
  /** Absolute path on disk of each of `torrent.files`; null for pad files. */
  filePaths: Array<string | null>
}

/** What the rest of the appliance hears from the generator, each right after its commit. */
export interface PublishEvents {
  /** New: track it, seed it, serve it as a web seed. */
  published(torrent: LiveTorrent): void
  /** Replaced or gone from the tree: stop seeding; the tracker keeps it through the grace period. */
  superseded(infoHash: string): void
  /** Past its grace period: stop tracking it too. */
  removed(infoHash: string): void
  /**
   * The same torrent (same info-hash) with new `.torrent` bytes: its `url-list` was rewritten.
   * What serves the bytes reloads them; the tracker and the seeder have nothing to change.
   */
  rewritten(infoHash: string): void
}

/**
 * Every torrent still tracked: active ones, and superseded ones within their grace period.
 * `root` is where this node finds the files (each seeder node seeds its local copy).
 */
export async function liveTorrents(database: DatabaseHandle, root: string): Promise<LiveTorrent[]> {
  const tracked = await loadTracked(database.db)
  return tracked.map((known) => liveTorrent(root, known, parseTorrent(known.metainfo)))
}

export function liveTorrent(
  root: string,
  row: { id: number; releaseDir: string; status: string; supersededAt: Date | null },
  torrent: Torrent,
): LiveTorrent {
  return {
    id: row.id,
    infoHash: trackerKeyHex(torrent),
    releaseDir: row.releaseDir,
    active: row.status === 'active',
    supersededAt: row.supersededAt,
    torrent,
    filePaths: torrent.files.map((f) =>
      f.pad ? null : path.join(root, row.releaseDir, ...f.path),
    ),
  }
}
