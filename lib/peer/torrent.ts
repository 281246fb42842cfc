import type { Torrent } from '../metainfo/index.ts'

/**
 * The part of `lib/metainfo`'s `Torrent` the seeder reads, so a parsed torrent is passed in as it
 * is and anything else with these fields (a test fixture) will do too.
 */
export type SeedTorrent = Pick<
  Torrent,
  | 'infoHash'
  | 'infoHashV2'
  | 'info'
  | 'format'
  | 'name'
  | 'pieceLength'
  | 'pieceCount'
  | 'length'
  | 'files'
  | 'pieceLayers'
  | 'announce'
  | 'announceList'
>
