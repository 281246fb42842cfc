// The generator: reconcile the tree into published torrents, the one writer of the output folders
// (`.torrent` files, symlink folders, `url-list` rewrites), and the feed that tells the rest.
export {
  Publisher,
  generatorLock,
  trackerKey,
  walkTree,
  type PublisherOptions,
  type ReconcileSummary,
} from './publisher.ts'
export { liveTorrents, type LiveTorrent, type PublishEvents } from './live.ts'
export { PublishError, type PublishErrorCode } from './errors.ts'
export { Outputs, outputsFor } from './outputs.ts'
export { OutputLayout, outputLayout, profileSelector } from './placement.ts'
export { trackerTiers, webSeeds, type WebSeedMirror } from './announce.ts'
export { TorrentFeed } from './feed.ts'
export { mirrorCheckHooks, refreshWebSeeds } from './web-seeds.ts'
export { HashAhead } from './ahead.ts'
