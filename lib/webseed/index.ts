/** The origin web seed (BEP 19): published torrents' files over HTTP ranges, and nothing else. */
export { WebSeed, type WebSeedOptions, type WebSeedStats, type WebSeedTorrent } from './webseed.ts'
export type { TorrentCounters } from './files.ts'
export { parseWebSeedPath, webSeedPrefix } from './path.ts'
export { parseRange, type ByteRange } from './range.ts'
export { WebSeedError, type WebSeedErrorCode } from './errors.ts'
