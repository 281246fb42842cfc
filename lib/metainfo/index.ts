// Torrent files: canonical v1/v2/hybrid metainfo (BEP 3, 12, 19, 47, 52), parsing, magnet links.
export {
  createTorrent,
  createdBy,
  type CreateOptions,
  type CreatedTorrent,
  type SourceFile,
} from './create.ts'
export { buildInfo, type InfoInput } from './info.ts'
export { encodeTorrent, type TorrentExtras } from './torrent.ts'
export { parseTorrent, type Torrent, type TorrentFile } from './parse.ts'
export {
  trackerKey,
  trackerKeyHex,
  truncatedV2,
  swarmKeys,
  type TorrentHashes,
} from './identity.ts'
export { magnetLink, type MagnetOptions } from './magnet.ts'
export {
  compareV1,
  compareV2,
  formats,
  layoutFiles,
  unsafeSegment,
  type FileEntry,
  type Format,
  type LayoutFile,
} from './layout.ts'
export { choosePieceLength, isValidPieceLength } from './piece-length.ts'
export { MetainfoError, type MetainfoErrorCode } from './errors.ts'
export { withWebSeeds } from './url-list.ts'
export { dataRoot, pieceRanges, verifyData, type FileReport } from './verify.ts'
export { sourceFiles } from './source-files.ts'
export { torrentSummary } from './summary.ts'
