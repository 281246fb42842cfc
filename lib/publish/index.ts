/** Publishing releases: torrents and symlink folders written atomically, recorded, announced. */
export {
  Publisher,
  generatorLock,
  liveTorrents,
  trackerKey,
  type PublishEvents,
  type LiveTorrent,
  type PublisherOptions,
  type ReconcileSummary,
} from './publisher.ts'
export { Outputs, outputsFor } from './outputs.ts'
export { OutputLayout, outputLayout, profileSelector } from './placement.ts'
export { trackerTiers, webSeeds, type WebSeedMirror } from './announce.ts'
export { TorrentFeed } from './feed.ts'
export { webSeedMirrors } from './store.ts'
