/** Public pages: the index, `.torrent` files, the RSS feed, metalinks, /metrics, daily stats. */
export { webRoutes, publicTorrentRoute, type WebOptions, type SwarmCounts } from './routes.tsx'
export { PublicCatalog, type PublicTorrent } from './public-catalog.ts'
export { renderFeed, type FeedChannel, type FeedItem } from './feed.ts'
export { renderMetalink, type MetalinkInput } from './metalink.ts'
export {
  applianceMetrics,
  metricsRoutes,
  MetricsRegistry,
  ScanTally,
  type MetricsSources,
  type Sample,
} from './metrics.ts'
export { healthRoutes, Readiness } from './health.ts'
