import { magnetLink } from './magnet.ts'
import type { Torrent } from './parse.ts'

/** What `create --json` and `info --json` both say of a torrent, in the same words. */
export function torrentSummary(torrent: Torrent) {
  return {
    name: torrent.name,
    format: torrent.format,
    infoHash: torrent.infoHash?.toString('hex') ?? null,
    infoHashV2: torrent.infoHashV2?.toString('hex') ?? null,
    magnet: magnetLink(torrent),
    pieceLength: torrent.pieceLength,
    pieceCount: torrent.pieceCount,
    /** Bytes of data, pad files left out. */
    size: torrent.files.reduce((sum, f) => sum + (f.pad ? 0 : f.length), 0),
  }
}
