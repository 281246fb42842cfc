import { PublicCatalog, publicTorrentRoute, webRoutes } from '../../../lib/web/index.ts'
import type { Role } from './context.ts'

/**
 * The public pages: index, `/torrents/…`, metalinks, the RSS feed. Served from memory, kept
 * current by the torrent feed (no query per request).
 */
export const webRole: Role = async (context) => {
  const { database, feed, app, fastPrefixes, plainPrefixes, services, pace } = context
  const catalog = new PublicCatalog(database)
  feed.subscribe(catalog.events)
  const torrentFiles = publicTorrentRoute(catalog, pace)
  fastPrefixes.set('/torrents/', torrentFiles.handle)
  plainPrefixes.set('/torrents/', torrentFiles.plain)
  app.route(
    '/',
    webRoutes({
      database,
      catalog,
      // Read at request time: known once the ports are bound.
      publicUrl: () => context.config.publicUrl,
      swarmStats: (infoHash) => services.tracker?.stats(infoHash),
      pace,
    }),
  )
  return async () => catalog.close()
}
